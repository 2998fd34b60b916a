import { crc32 } from "node:zlib";
import { type CryptConfig, IV_LENGTH, TAG_LENGTH } from "./crypt-config.js";
import { FormatError } from "./errors.js";
import { identifyMagic, MAGIC, MAGIC_LENGTH } from "./magic.js";
import { compressToScratch, decompressBounded } from "./zstd.js";

const MiB = 1024 * 1024;

/** The encoder refuses more plaintext than this (PBS `MAX_BLOB_SIZE`). */
export const MAX_BLOB_SIZE = 128 * MiB;
/** Magic and CRC: the header of plain and compressed blobs. */
export const UNENCRYPTED_HEADER_SIZE = MAGIC_LENGTH + 4;
/** Magic, CRC, IV and GCM tag: the header of encrypted blobs. */
export const ENCRYPTED_HEADER_SIZE = UNENCRYPTED_HEADER_SIZE + IV_LENGTH + TAG_LENGTH;
/** Backup protocol: smallest `encoded-size` of an uploaded `.blob` (an empty plain blob). */
export const MIN_UPLOADED_BLOB_SIZE = UNENCRYPTED_HEADER_SIZE;
/** Backup protocol: largest `encoded-size` of an uploaded `.blob` (PBS 3.2 allows 16 MiB + 40). */
export const MAX_UPLOADED_BLOB_SIZE = 16 * MiB + 40;

const CRC_OFFSET = MAGIC_LENGTH;
const IV_OFFSET = UNENCRYPTED_HEADER_SIZE;
const TAG_OFFSET = IV_OFFSET + IV_LENGTH;

export type BlobKind =
  | "uncompressedBlob"
  | "compressedBlob"
  | "encryptedBlob"
  | "encryptedCompressedBlob";

/** Crypt mode as PBS names it in manifests; blobs are only ever `none` or `encrypt`. */
export type BlobCryptMode = "none" | "encrypt";

/** What the header of an encoded blob says, for decoders and inspection tools. */
export interface BlobHeader {
  kind: BlobKind;
  cryptMode: BlobCryptMode;
  compressed: boolean;
  headerSize: number;
  /** CRC32 stored at offset 8. */
  crc: number;
  /** CRC32 computed over every byte after the header. */
  computedCrc: number;
  crcOk: boolean;
  iv?: Buffer;
  tag?: Buffer;
  payloadLength: number;
}

export interface EncodeBlobOptions {
  /** Encrypt with this key; without it the blob is plain. */
  crypt?: CryptConfig;
  /** Try zstd level 1 and keep it when strictly smaller (default true). */
  compress?: boolean;
  /** A fixed 16-byte IV, for reproducible test vectors only; random otherwise. */
  iv?: Buffer;
}

export interface DecodeBlobOptions {
  /** Needed for encrypted blobs; ignored for plain ones. */
  crypt?: CryptConfig;
  /** Largest plaintext accepted, checked before it is allocated (default MAX_BLOB_SIZE). */
  maxSize?: number;
}

/**
 * Encodes `data` as a PBS data blob: compressed when that is strictly smaller, then encrypted when
 * a key is given. The result is allocated once, header and payload together.
 */
export function encodeBlob(data: Uint8Array, options: EncodeBlobOptions = {}): Buffer {
  if (data.length > MAX_BLOB_SIZE) {
    throw new FormatError(
      "oversize",
      `blob data of ${data.length} bytes exceeds ${MAX_BLOB_SIZE}`,
      {
        size: data.length,
        maxSize: MAX_BLOB_SIZE,
      },
    );
  }
  const compressed = options.compress === false ? undefined : compressIfSmaller(data);
  const payload = compressed ?? data;
  const { crypt } = options;
  if (!crypt) {
    return assemble(compressed ? MAGIC.compressedBlob : MAGIC.uncompressedBlob, payload);
  }
  if (options.iv !== undefined && options.iv.length !== IV_LENGTH) {
    throw new FormatError("invalid-argument", `blob IV must be ${IV_LENGTH} bytes`, {
      ivLength: options.iv.length,
    });
  }
  const { iv, tag, ciphertext } = crypt.encrypt(payload, options.iv);
  const magic = compressed ? MAGIC.encryptedCompressedBlob : MAGIC.encryptedBlob;
  return assemble(magic, ciphertext, iv, tag);
}

/** The zstd frame of `data` when it is strictly shorter than `data` (PBS's rule), else undefined. */
function compressIfSmaller(data: Uint8Array): Buffer | undefined {
  const frame = compressToScratch(data);
  return frame.length < data.length ? frame : undefined;
}

function assemble(magic: Buffer, payload: Uint8Array, iv?: Buffer, tag?: Buffer): Buffer {
  const headerSize = iv ? ENCRYPTED_HEADER_SIZE : UNENCRYPTED_HEADER_SIZE;
  const blob = Buffer.allocUnsafe(headerSize + payload.length);
  magic.copy(blob, 0);
  blob.writeUInt32LE(crc32(payload), CRC_OFFSET);
  if (iv && tag) {
    iv.copy(blob, IV_OFFSET);
    tag.copy(blob, TAG_OFFSET);
  }
  blob.set(payload, headerSize);
  return blob;
}

/**
 * Reads the header of an encoded blob and computes its CRC without judging it. Throws only when
 * the bytes are not a blob at all: FormatError "truncated" or "bad-magic".
 */
export function readBlobHeader(encoded: Uint8Array): BlobHeader {
  const bytes = asBuffer(encoded);
  if (bytes.length < MAGIC_LENGTH) {
    throw new FormatError("truncated", `blob of ${bytes.length} bytes is shorter than its magic`, {
      length: bytes.length,
    });
  }
  const kind = blobKindOf(bytes);
  const encrypted = CRYPT_MODE[kind] === "encrypt";
  const headerSize = encrypted ? ENCRYPTED_HEADER_SIZE : UNENCRYPTED_HEADER_SIZE;
  if (bytes.length < headerSize) {
    throw new FormatError(
      "truncated",
      `${kind} of ${bytes.length} bytes is shorter than its ${headerSize}-byte header`,
      { kind, length: bytes.length, headerSize },
    );
  }
  const crc = bytes.readUInt32LE(CRC_OFFSET);
  const computedCrc = crc32(bytes.subarray(headerSize));
  return {
    kind,
    cryptMode: CRYPT_MODE[kind],
    compressed: kind === "compressedBlob" || kind === "encryptedCompressedBlob",
    headerSize,
    crc,
    computedCrc,
    crcOk: crc === computedCrc,
    ...(encrypted && {
      iv: bytes.subarray(IV_OFFSET, TAG_OFFSET),
      tag: bytes.subarray(TAG_OFFSET, ENCRYPTED_HEADER_SIZE),
    }),
    payloadLength: bytes.length - headerSize,
  };
}

const CRYPT_MODE: Record<BlobKind, BlobCryptMode> = {
  uncompressedBlob: "none",
  compressedBlob: "none",
  encryptedBlob: "encrypt",
  encryptedCompressedBlob: "encrypt",
};

/** The crypt mode a blob's magic announces, without reading further; FormatError "bad-magic" if none. */
export function blobCryptMode(encoded: Uint8Array): BlobCryptMode {
  return CRYPT_MODE[blobKindOf(asBuffer(encoded))];
}

function blobKindOf(bytes: Buffer): BlobKind {
  const kind = identifyMagic(bytes);
  switch (kind) {
    case "uncompressedBlob":
    case "compressedBlob":
    case "encryptedBlob":
    case "encryptedCompressedBlob":
      return kind;
    default:
      throw new FormatError("bad-magic", `not a data blob: magic ${hex8(bytes)}`, {
        magic: hex8(bytes),
        ...(kind && { identifiedAs: kind }),
      });
  }
}

/**
 * Checks magic, length and CRC; needs no key, so the server and verify jobs can check encrypted
 * chunks. Returns the header, or throws FormatError "bad-magic", "truncated" or "crc-mismatch".
 */
export function verifyBlobCrc(encoded: Uint8Array): BlobHeader {
  const header = readBlobHeader(encoded);
  if (!header.crcOk) {
    throw new FormatError(
      "crc-mismatch",
      `${header.kind} CRC32 mismatch: stored ${hex32(header.crc)}, computed ${hex32(header.computedCrc)}`,
      { kind: header.kind, storedCrc: hex32(header.crc), computedCrc: hex32(header.computedCrc) },
    );
  }
  return header;
}

/**
 * Decodes a blob of any of the four kinds, returning the plaintext only after magic, length, CRC,
 * GCM tag and size bound have all passed. An uncompressed plain blob's result shares memory with
 * `encoded`.
 */
export function decodeBlob(encoded: Uint8Array, options: DecodeBlobOptions = {}): Buffer {
  const maxSize = options.maxSize ?? MAX_BLOB_SIZE;
  const header = verifyBlobCrc(encoded);
  const payload = asBuffer(encoded).subarray(header.headerSize);
  if (!header.compressed && payload.length > maxSize) {
    throw new FormatError(
      "oversize",
      `${header.kind} holds ${payload.length} bytes, over ${maxSize}`,
      {
        kind: header.kind,
        size: payload.length,
        maxSize,
      },
    );
  }
  const plain = header.cryptMode === "encrypt" ? decrypt(header, payload, options.crypt) : payload;
  return header.compressed ? decompressBounded(plain, maxSize) : plain;
}

function decrypt(header: BlobHeader, ciphertext: Buffer, crypt: CryptConfig | undefined): Buffer {
  if (!crypt) {
    throw new FormatError("bad-key", `${header.kind} is encrypted: a key is needed to decode it`, {
      kind: header.kind,
    });
  }
  return crypt.decrypt(ciphertext, header.iv!, header.tag!);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function hex8(bytes: Buffer): string {
  return bytes.subarray(0, MAGIC_LENGTH).toString("hex");
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, "0");
}
