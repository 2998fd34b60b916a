import { createHash } from "node:crypto";
import { blobCryptMode, decodeBlob, ENCRYPTED_HEADER_SIZE, encodeBlob } from "./blob.js";
import type { CryptConfig } from "./crypt-config.js";
import { FormatError } from "./errors.js";

const MiB = 1024 * 1024;

/** Backup protocol: a chunk's plaintext `size` is 1..16 MiB (pbs-formats.md §1). */
export const MIN_CHUNK_SIZE = 1;
export const MAX_CHUNK_SIZE = 16 * MiB;
/** Backup protocol: smallest `encoded-size` of an uploaded chunk. */
export const MIN_ENCODED_CHUNK_SIZE = 13;
/** Backup protocol: largest `encoded-size` of an uploaded chunk, a full chunk plus the encrypted header. */
export const MAX_ENCODED_CHUNK_SIZE = MAX_CHUNK_SIZE + ENCRYPTED_HEADER_SIZE;
export const DIGEST_LENGTH = 32;

export interface EncodedChunk {
  digest: Buffer;
  encoded: Buffer;
}

export interface EncodeChunkOptions {
  crypt?: CryptConfig;
  /** Try zstd level 1 (default true). */
  compress?: boolean;
  /** A fixed IV, for reproducible test vectors only. */
  iv?: Buffer;
}

export interface DecodeChunkOptions {
  crypt?: CryptConfig;
  /** The plaintext length the uploader announced; also bounds decompression. */
  size?: number;
}

/** A chunk's identity: SHA-256 of the plaintext, keyed with the id key when encrypting. */
export function chunkDigest(data: Uint8Array, crypt?: CryptConfig): Buffer {
  return crypt ? crypt.chunkDigest(data) : createHash("sha256").update(data).digest();
}

/** Digest and encoded blob of one chunk; the digest is over the plaintext, as PBS's chunk builder does. */
export function encodeChunk(data: Uint8Array, options: EncodeChunkOptions = {}): EncodedChunk {
  if (data.length < MIN_CHUNK_SIZE || data.length > MAX_CHUNK_SIZE) {
    throw new FormatError(
      data.length > MAX_CHUNK_SIZE ? "oversize" : "invalid-argument",
      `chunk of ${data.length} bytes is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`,
      { size: data.length, minSize: MIN_CHUNK_SIZE, maxSize: MAX_CHUNK_SIZE },
    );
  }
  return { digest: chunkDigest(data, options.crypt), encoded: encodeBlob(data, options) };
}

/**
 * Decodes a chunk and checks it is the one `expectedDigest` names. The digest is keyed only when
 * the blob itself is encrypted, so a key may be passed for stores holding both kinds.
 */
export function decodeChunk(
  encoded: Uint8Array,
  expectedDigest: Uint8Array,
  options: DecodeChunkOptions = {},
): Buffer {
  const { crypt, size } = options;
  const data = decodeBlob(encoded, { crypt, maxSize: size ?? MAX_CHUNK_SIZE });
  const encrypted = blobCryptMode(encoded) === "encrypt";
  if (size !== undefined && data.length !== size) {
    throw new FormatError(
      "bad-layout",
      `chunk decodes to ${data.length} bytes, announced ${size}`,
      {
        size: data.length,
        announcedSize: size,
      },
    );
  }
  const actual = chunkDigest(data, encrypted ? crypt : undefined);
  if (!actual.equals(expectedDigest)) {
    const expected = Buffer.from(expectedDigest).toString("hex");
    throw new FormatError(
      "digest-mismatch",
      `chunk digest mismatch: expected ${expected}, got ${actual.toString("hex")}`,
      { expected, actual: actual.toString("hex") },
    );
  }
  return data;
}
