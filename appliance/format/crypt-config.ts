import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  pbkdf2Sync,
  randomBytes,
} from "node:crypto";
import { FormatError } from "./errors.js";

/** SHA-256("Proxmox Backup Encryption Key Fingerprint"), the fixed prefix of key fingerprints (PBS). */
const FINGERPRINT_INPUT = Buffer.from(
  "6ed0ef77471fff4d55c7a8fe4a9db62161407f134c725ddf30992d25ec45ed26",
  "hex",
);

/** Node 20 is ~10x slower on one multi-MiB cipher update than on 64 KiB slices. */
const CIPHER_SLICE = 64 * 1024;

export const KEY_LENGTH = 32;
export const IV_LENGTH = 16;
export const TAG_LENGTH = 16;

/**
 * The material derived from one 32-byte encryption key: the AES-256-GCM key itself and the id key
 * that keys chunk digests, manifest signatures and the fingerprint.
 */
export class CryptConfig {
  readonly idKey: Buffer;
  readonly fingerprint: Buffer;
  readonly #encKey: Buffer;

  constructor(encKey: Buffer) {
    if (encKey.length !== KEY_LENGTH) {
      throw new FormatError("bad-key", `encryption key must be 32 bytes, got ${encKey.length}`);
    }
    this.#encKey = Buffer.from(encKey);
    this.idKey = pbkdf2Sync(this.#encKey, "_id_key", 10, 32, "sha256");
    this.fingerprint = createHash("sha256").update(FINGERPRINT_INPUT).update(this.idKey).digest();
  }

  /** The fingerprint as 32 colon-separated hex bytes, the form PBS prints and stores. */
  fingerprintText(): string {
    return formatFingerprint(this.fingerprint);
  }

  /** Digest of an encrypted chunk: SHA-256 over the plaintext followed by the id key. */
  chunkDigest(data: Uint8Array): Buffer {
    return createHash("sha256").update(data).update(this.idKey).digest();
  }

  /** HMAC-SHA256 under the id key (manifest signatures). */
  authTag(data: Uint8Array | string): Buffer {
    return createHmac("sha256", this.idKey).update(data).digest();
  }

  /** AES-256-GCM with a 16-byte IV and empty AAD; returns the ciphertext and the tag. */
  encrypt(
    plain: Uint8Array,
    iv: Buffer = randomBytes(IV_LENGTH),
  ): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
    const cipher = createCipheriv("aes-256-gcm", this.#encKey, iv);
    const ciphertext = Buffer.allocUnsafe(plain.length);
    let written = 0;
    for (let at = 0; at < plain.length; at += CIPHER_SLICE) {
      const out = cipher.update(plain.subarray(at, Math.min(at + CIPHER_SLICE, plain.length)));
      out.copy(ciphertext, written);
      written += out.length;
    }
    cipher.final().copy(ciphertext, written);
    return { iv, tag: cipher.getAuthTag(), ciphertext };
  }

  /** Decrypts and authenticates; throws FormatError("auth-failed") and returns nothing on a bad tag. */
  decrypt(ciphertext: Uint8Array, iv: Uint8Array, tag: Uint8Array): Buffer {
    const decipher = createDecipheriv("aes-256-gcm", this.#encKey, iv);
    decipher.setAuthTag(tag);
    const plain = Buffer.allocUnsafe(ciphertext.length);
    let written = 0;
    for (let at = 0; at < ciphertext.length; at += CIPHER_SLICE) {
      const out = decipher.update(
        ciphertext.subarray(at, Math.min(at + CIPHER_SLICE, ciphertext.length)),
      );
      out.copy(plain, written);
      written += out.length;
    }
    try {
      decipher.final();
    } catch (err) {
      throw new FormatError(
        "auth-failed",
        "authentication failed: wrong key or corrupted data",
        {},
        {
          cause: err,
        },
      );
    }
    return plain;
  }
}

/** 32 bytes as `aa:bb:…`, lowercase. */
export function formatFingerprint(fingerprint: Uint8Array): string {
  return Buffer.from(fingerprint)
    .toString("hex")
    .replace(/(..)(?!$)/g, "$1:");
}
