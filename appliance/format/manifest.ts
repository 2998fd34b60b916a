import { timingSafeEqual } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";
import type { CryptConfig } from "./crypt-config.js";
import { FormatError } from "./errors.js";

/**
 * The snapshot manifest (`index.json`, pbs-formats.md §4): which files a snapshot holds with their
 * sizes and checksums, an `unprotected` object the server may change, and an HMAC signature over
 * everything else. Manifests are values: every helper returns a new one.
 */

export const BACKUP_TYPES = ["vm", "ct", "host"] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export const CRYPT_MODES = ["none", "encrypt", "sign-only"] as const;
export type CryptMode = (typeof CRYPT_MODES)[number];

/** How a listed file is stored, told by its extension. */
export type ArchiveKind = "fixed-index" | "dynamic-index" | "blob";

export interface ManifestFile {
  readonly filename: string;
  readonly cryptMode: CryptMode;
  /** Data size for indexes; encoded length for blobs. */
  readonly size: number;
  /** 64 lowercase hex: the index checksum, or SHA-256 of the encoded blob. */
  readonly csum: string;
}

export interface Manifest {
  readonly backupType: BackupType;
  readonly backupId: string;
  readonly backupTime: number;
  readonly files: readonly ManifestFile[];
  /** Not covered by the signature (notes, verify state, upload stats, key fingerprint). */
  readonly unprotected: Readonly<Record<string, unknown>>;
  /** 64 lowercase hex HMAC-SHA256, or null when unsigned. */
  readonly signature: string | null;
}

/** A file entry to add; the checksum may be raw bytes, and the crypt mode defaults to none. */
export interface NewManifestFile {
  filename: string;
  cryptMode?: CryptMode;
  size: number;
  csum: string | Uint8Array;
}

/** Which case verifyManifest() found: a valid signature, or none to check. */
export type ManifestVerification = "verified" | "unsigned";

const TOP_FIELDS = ["backup-type", "backup-id", "backup-time", "files", "unprotected", "signature"];
const FILE_FIELDS = ["filename", "crypt-mode", "size", "csum"];
const BACKUP_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const HEX_256 = /^[0-9a-f]{64}$/;
const FINGERPRINT = /^[0-9a-f]{2}(?::[0-9a-f]{2}){31}$/;
const ARCHIVE_EXTENSION: Record<string, ArchiveKind> = {
  fidx: "fixed-index",
  didx: "dynamic-index",
  blob: "blob",
};

/** An empty, unsigned manifest for a new snapshot. */
export function newManifest(snapshot: {
  backupType: BackupType;
  backupId: string;
  backupTime: number;
}): Manifest {
  const manifest: Manifest = { ...snapshot, files: [], unprotected: {}, signature: null };
  checkManifest(manifest);
  return manifest;
}

/** The archive kind of a file name (`x.fidx`, `x.didx`, `x.blob`), or undefined for any other. */
export function archiveKind(filename: string): ArchiveKind | undefined {
  const match = /^[^/\0]+\.([a-z]+)$/.exec(filename);
  return match ? ARCHIVE_EXTENSION[match[1]!] : undefined;
}

/** Pretty JSON (2-space indent) with the fields in PBS's order, ready to be wrapped in a blob. */
export function manifestToJson(manifest: Manifest): string {
  checkManifest(manifest);
  return JSON.stringify(
    {
      "backup-type": manifest.backupType,
      "backup-id": manifest.backupId,
      "backup-time": manifest.backupTime,
      files: manifest.files.map(fileToJson),
      unprotected: manifest.unprotected,
      signature: manifest.signature,
    },
    null,
    2,
  );
}

/**
 * Parses and validates manifest JSON. A missing crypt-mode means none and a missing unprotected
 * means {}; unknown fields are refused, since rewriting the manifest would silently drop them.
 */
export function parseManifest(text: string | Uint8Array): Manifest {
  const json = expectObject(parseJson(text), "manifest");
  refuseUnknownFields(json, TOP_FIELDS, "manifest");
  const manifest: Manifest = {
    backupType: expectOneOf(json["backup-type"], BACKUP_TYPES, "backup-type"),
    backupId: expectString(json["backup-id"], "backup-id"),
    backupTime: expectInteger(json["backup-time"], "backup-time"),
    files: expectArray(json.files, "files").map((file, i) => parseFile(file, `files[${i}]`)),
    unprotected:
      json.unprotected === undefined ? {} : expectObject(json.unprotected, "unprotected"),
    signature:
      json.signature === undefined || json.signature === null
        ? null
        : expectString(json.signature, "signature"),
  };
  checkManifest(manifest);
  return manifest;
}

/** The canonical JSON the signature covers: the manifest without `unprotected` and `signature`. */
export function manifestSignedJson(manifest: Manifest): string {
  return canonicalJson({
    "backup-type": manifest.backupType,
    "backup-id": manifest.backupId,
    "backup-time": manifest.backupTime,
    files: manifest.files.map(fileToJson),
  });
}

/** Signs with the key's id key and records its fingerprint in `unprotected["key-fingerprint"]`. */
export function signManifest(manifest: Manifest, crypt: CryptConfig): Manifest {
  checkManifest(manifest);
  return {
    ...manifest,
    unprotected: { ...manifest.unprotected, "key-fingerprint": crypt.fingerprintText() },
    signature: crypt.authTag(manifestSignedJson(manifest)).toString("hex"),
  };
}

/**
 * Checks a manifest against a key: a recorded fingerprint must be this key's, then a signature
 * must match. An unsigned manifest is accepted, and reported as such.
 */
export function verifyManifest(manifest: Manifest, crypt: CryptConfig): ManifestVerification {
  const recorded = manifest.unprotected["key-fingerprint"];
  if (recorded !== undefined && recorded !== null) {
    if (typeof recorded !== "string" || !FINGERPRINT.test(recorded.toLowerCase())) {
      throw badManifest("unprotected.key-fingerprint is not a key fingerprint");
    }
    if (recorded.toLowerCase() !== crypt.fingerprintText()) {
      throw new FormatError(
        "bad-signature",
        `manifest was made with key ${recorded}, not with the provided key ${crypt.fingerprintText()}`,
        { manifestKey: recorded, providedKey: crypt.fingerprintText() },
      );
    }
  }
  if (manifest.signature === null) return "unsigned";
  const expected = crypt.authTag(manifestSignedJson(manifest));
  if (!timingSafeEqual(Buffer.from(manifest.signature, "hex"), expected)) {
    throw new FormatError("bad-signature", "manifest signature does not match its content", {
      backupType: manifest.backupType,
      backupId: manifest.backupId,
      backupTime: manifest.backupTime,
    });
  }
  return "verified";
}

/** Adds a file entry. The signed content changes, so the result is unsigned until re-signed. */
export function addManifestFile(manifest: Manifest, file: NewManifestFile): Manifest {
  const entry: ManifestFile = {
    filename: file.filename,
    cryptMode: file.cryptMode ?? "none",
    size: file.size,
    csum: typeof file.csum === "string" ? file.csum : Buffer.from(file.csum).toString("hex"),
  };
  const updated: Manifest = { ...manifest, files: [...manifest.files, entry], signature: null };
  checkManifest(updated);
  return updated;
}

export function findManifestFile(manifest: Manifest, filename: string): ManifestFile | undefined {
  return manifest.files.find((file) => file.filename === filename);
}

/**
 * Compares a file's recomputed checksum and size (never the ones stored in a downloaded index)
 * with the manifest entry; throws checksum-mismatch on a difference.
 */
export function checkManifestFile(
  manifest: Manifest,
  filename: string,
  actual: { csum: Uint8Array; size: number },
): void {
  const entry = findManifestFile(manifest, filename);
  if (entry === undefined) throw badManifest(`manifest does not list ${filename}`);
  const csum = Buffer.from(actual.csum).toString("hex");
  if (entry.size !== actual.size || entry.csum !== csum) {
    throw new FormatError(
      "checksum-mismatch",
      entry.size !== actual.size
        ? `${filename} has size ${actual.size}, the manifest says ${entry.size}`
        : `${filename} has a different checksum than the manifest`,
      { filename, expectedSize: entry.size, size: actual.size, expectedCsum: entry.csum, csum },
    );
  }
}

/** The rules both parsing and writing enforce, so Cairn never writes what it would refuse. */
function checkManifest(manifest: Manifest): void {
  if (!(BACKUP_TYPES as readonly string[]).includes(manifest.backupType)) {
    throw badManifest(`backup-type must be one of ${BACKUP_TYPES.join(", ")}`);
  }
  if (!BACKUP_ID.test(manifest.backupId)) {
    throw badManifest(`backup-id ${JSON.stringify(manifest.backupId)} is not a valid backup id`);
  }
  if (!Number.isSafeInteger(manifest.backupTime)) {
    throw badManifest("backup-time must be whole epoch seconds");
  }
  const seen = new Set<string>();
  manifest.files.forEach((file, i) => {
    checkFile(file, `files[${i}]`);
    if (seen.has(file.filename)) throw badManifest(`files lists ${file.filename} twice`);
    seen.add(file.filename);
  });
  if (manifest.signature !== null && !HEX_256.test(manifest.signature)) {
    throw badManifest("signature must be 64 lowercase hex digits or null");
  }
}

function checkFile(file: ManifestFile, field: string): void {
  if (archiveKind(file.filename) === undefined || /\p{Surrogate}/u.test(file.filename)) {
    throw badManifest(
      `${field}.filename ${JSON.stringify(file.filename)} must end in .fidx, .didx or .blob and contain no '/'`,
    );
  }
  if (!(CRYPT_MODES as readonly string[]).includes(file.cryptMode)) {
    throw badManifest(`${field}.crypt-mode must be one of ${CRYPT_MODES.join(", ")}`);
  }
  if (!Number.isSafeInteger(file.size) || file.size < 0) {
    throw badManifest(`${field}.size must be a byte count`);
  }
  if (!HEX_256.test(file.csum)) {
    throw badManifest(`${field}.csum must be 64 lowercase hex digits`);
  }
}

function parseFile(value: unknown, field: string): ManifestFile {
  const json = expectObject(value, field);
  refuseUnknownFields(json, FILE_FIELDS, field);
  return {
    filename: expectString(json.filename, `${field}.filename`),
    cryptMode:
      json["crypt-mode"] === undefined
        ? "none"
        : expectOneOf(json["crypt-mode"], CRYPT_MODES, `${field}.crypt-mode`),
    size: expectInteger(json.size, `${field}.size`),
    csum: expectString(json.csum, `${field}.csum`),
  };
}

function fileToJson(file: ManifestFile): Record<string, unknown> {
  return {
    filename: file.filename,
    "crypt-mode": file.cryptMode,
    size: file.size,
    csum: file.csum,
  };
}

function parseJson(text: string | Uint8Array): unknown {
  try {
    const decoded =
      typeof text === "string" ? text : new TextDecoder("utf-8", { fatal: true }).decode(text);
    return JSON.parse(decoded);
  } catch (err) {
    throw new FormatError("bad-manifest", "manifest is not UTF-8 JSON", {}, { cause: err });
  }
}

function refuseUnknownFields(json: Record<string, unknown>, known: string[], where: string): void {
  const unknown = Object.keys(json).find((key) => !known.includes(key));
  if (unknown !== undefined) throw badManifest(`${where} has unknown field ${unknown}`);
}

function expectObject(value: unknown, field: string): Record<string, unknown> {
  requirePresent(value, field);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badManifest(`${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

function expectArray(value: unknown, field: string): unknown[] {
  requirePresent(value, field);
  if (!Array.isArray(value)) throw badManifest(`${field} must be an array`);
  return value;
}

function expectString(value: unknown, field: string): string {
  requirePresent(value, field);
  if (typeof value !== "string") throw badManifest(`${field} must be a string`);
  return value;
}

function expectInteger(value: unknown, field: string): number {
  requirePresent(value, field);
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw badManifest(`${field} must be an integer`);
  }
  return value;
}

function expectOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  requirePresent(value, field);
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw badManifest(`${field} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function requirePresent(value: unknown, field: string): void {
  if (value === undefined) throw badManifest(`${field} is missing`);
}

function badManifest(message: string): FormatError {
  return new FormatError("bad-manifest", message);
}
