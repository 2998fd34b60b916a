import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  publicEncrypt,
} from "node:crypto";
import { promisify } from "node:util";
import forge from "node-forge";
import { FormatError } from "./errors.js";
import { type KeyConfig, parseKeyConfig, serializeKeyConfig } from "./key-config.js";

const generateKeyPairAsync = promisify(generateKeyPair);

/** PBS's `key create-master-key` modulus. */
const MASTER_KEY_BITS = 4096;
/** PKCS#1 v1.5 padding takes at least 11 bytes of the block. */
const PKCS1_OVERHEAD = 11;

/** An RSA master key pair as PBS writes it: SPKI public PEM, AES-256-CBC encrypted PKCS#8 PEM. */
export interface MasterKeyPair {
  publicPem: string;
  privatePem: string;
}

/** Generates a 4096-bit RSA master key; the private half is encrypted under `password`. */
export async function createMasterKey(password: string): Promise<MasterKeyPair> {
  if (password.length === 0) {
    throw new FormatError("invalid-argument", "the master key password must not be empty");
  }
  const { publicKey, privateKey } = await generateKeyPairAsync("rsa", {
    modulusLength: MASTER_KEY_BITS,
    publicExponent: 65537,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: {
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: password,
    },
  });
  return { publicPem: publicKey, privatePem: privateKey };
}

/**
 * RSA-encrypts (PKCS#1 v1.5, one block as long as the modulus) the JSON of an unprotected key, the
 * payload of `rsa-encrypted.key.blob`. Given JSON bytes are checked and encrypted unchanged.
 */
export function wrapKeyWithMasterKey(
  keyConfig: Buffer | KeyConfig,
  publicPem: string | Buffer,
): Buffer {
  const config = Buffer.isBuffer(keyConfig) ? parseKeyConfig(keyConfig) : keyConfig;
  if (config.kdf !== null) {
    throw new FormatError(
      "invalid-argument",
      "only an unprotected key config (kdf null) may be wrapped with the master key",
    );
  }
  const json = Buffer.isBuffer(keyConfig) ? keyConfig : Buffer.from(serializeKeyConfig(config));
  const publicKey = rsaKey(() => createPublicKey(publicPem), "public");
  const blockLength = modulusBytes(publicKey);
  if (json.length > blockLength - PKCS1_OVERHEAD) {
    throw new FormatError(
      "invalid-argument",
      `key config JSON of ${json.length} bytes does not fit one ${blockLength}-byte RSA block`,
      { length: json.length, blockLength },
    );
  }
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, json);
}

/** Decrypts a master-key-wrapped key config; the result is the unprotected KeyConfig. */
export function unwrapWithMasterKey(
  ciphertext: Buffer,
  privatePem: string | Buffer,
  password: string | Buffer,
): KeyConfig {
  const privateKey = rsaKey(
    () => createPrivateKey({ key: privatePem, passphrase: password }),
    "private",
  );
  const blockLength = modulusBytes(privateKey);
  if (ciphertext.length !== blockLength) {
    throw new FormatError(
      "invalid-argument",
      `wrapped key must be ${blockLength} bytes for this master key, got ${ciphertext.length}`,
      { length: ciphertext.length, blockLength },
    );
  }
  // Node ≥ 20.11 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809), so forge does this one step.
  const forgeKey = forge.pki.privateKeyFromPem(
    privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  );
  let plain: Buffer;
  try {
    plain = Buffer.from(
      forgeKey.decrypt(ciphertext.toString("binary"), "RSAES-PKCS1-V1_5"),
      "binary",
    );
  } catch (err) {
    throw new FormatError(
      "auth-failed",
      "the wrapped key does not decrypt under this master key: wrong master key or damaged data",
      {},
      { cause: err },
    );
  }
  const config = parseKeyConfig(plain);
  if (config.kdf !== null) {
    throw new FormatError("bad-key", "the wrapped key config is not an unprotected key", {
      field: "kdf",
    });
  }
  return config;
}

/** Loads a PEM key, telling a wrong password apart from a key that is not RSA. */
function rsaKey(load: () => KeyObject, half: "public" | "private"): KeyObject {
  let key: KeyObject;
  try {
    key = load();
  } catch (err) {
    const message =
      half === "private"
        ? "cannot open the master private key: wrong master key password or not a PEM key"
        : "the master public key is not a valid PEM key";
    throw new FormatError("bad-key", message, {}, { cause: err });
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new FormatError("bad-key", `the master ${half} key is not RSA`, {
      type: key.asymmetricKeyType,
    });
  }
  return key;
}

function modulusBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}
