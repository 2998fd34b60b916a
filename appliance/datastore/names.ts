/**
 * Names inside a datastore and the relative paths built from them (pbs-formats.md §5). Every
 * validator refuses with a DatastoreError naming the field and the value; every path builder
 * validates its inputs again, so a path it returns always stays inside the datastore.
 */
import { badName, DatastoreError, showValue } from "./errors.js";

/** PBS's safe-id, ASCII only, so no '/', NUL, leading '.', or look-alike Unicode can get through. */
const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const SAFE_ID_RULE =
  "must start with a letter, digit or '_' and contain only letters, digits, '.', '_' and '-'";

/** Why `value` is not a safe-id of `min`..`max` characters, or undefined when it is one. */
function safeIdProblem(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (value.length < min || value.length > max) return `must be ${min} to ${max} characters long`;
  return SAFE_ID.test(value) ? undefined : SAFE_ID_RULE;
}

function validateSafeId(field: string, value: unknown, min: number, max: number): string {
  const problem = safeIdProblem(value, min, max);
  if (problem !== undefined) throw badName(field, value, problem);
  return value as string;
}

// ---- backup types and ids ----

/** The backup types, listed in PBS's sort order (ct < host < vm). */
export const BACKUP_TYPES = ["ct", "host", "vm"] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export function validateBackupType(value: unknown): BackupType {
  if ((BACKUP_TYPES as readonly unknown[]).includes(value)) return value as BackupType;
  throw badName("backup type", value, "must be one of ct, host, vm");
}

export function compareBackupTypes(a: BackupType, b: BackupType): number {
  return BACKUP_TYPES.indexOf(a) - BACKUP_TYPES.indexOf(b);
}

/** A group id is one directory name, so the file system's 255-byte name limit bounds it. */
export const MAX_BACKUP_ID_LENGTH = 255;

export function validateBackupId(value: unknown): string {
  return validateSafeId("backup id", value, 1, MAX_BACKUP_ID_LENGTH);
}

const U64_MAX = 2n ** 64n - 1n;

/** The id as PBS reads it for sorting: a number when it is all digits and fits in a u64. */
function numericId(id: string): bigint | undefined {
  if (!/^[0-9]+$/.test(id)) return undefined;
  const number = BigInt(id);
  return number <= U64_MAX ? number : undefined;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** PBS's id order: numeric ids by value and before all others, the rest by code unit. */
export function compareBackupIds(a: string, b: string): number {
  const numberA = numericId(a);
  const numberB = numericId(b);
  if (numberA !== undefined && numberB !== undefined && numberA !== numberB) {
    return numberA < numberB ? -1 : 1;
  }
  if (numberA !== undefined && numberB === undefined) return -1;
  if (numberA === undefined && numberB !== undefined) return 1;
  return compareText(a, b);
}

export interface BackupGroupName {
  readonly type: BackupType;
  readonly id: string;
}

export function compareBackupGroups(a: BackupGroupName, b: BackupGroupName): number {
  return compareBackupTypes(a.type, b.type) || compareBackupIds(a.id, b.id);
}

// ---- namespaces ----

/** A namespace as its components, root first; the root namespace is the empty list. */
export type Namespace = readonly string[];

export const ROOT_NAMESPACE: Namespace = Object.freeze([]);
/** Levels below the root. */
export const MAX_NAMESPACE_DEPTH = 7;
/** Length of the display form `a/b/c`, slashes included. */
export const MAX_NAMESPACE_LENGTH = 256;

/** Checks components given as a list; `field`/`shown` say how the caller received them. */
export function validateNamespace(
  components: unknown,
  field = "namespace",
  shown: unknown = components,
): Namespace {
  if (!Array.isArray(components)) throw badName(field, shown, "must be a list of components");
  for (const component of components) {
    const problem = safeIdProblem(component, 1, MAX_NAMESPACE_LENGTH - 1);
    if (problem !== undefined) {
      throw badName(field, shown, `component ${showValue(component)} ${problem}`);
    }
  }
  if (components.length > MAX_NAMESPACE_DEPTH) {
    throw badName(field, shown, `is more than ${MAX_NAMESPACE_DEPTH} levels deep`);
  }
  if (components.join("/").length > MAX_NAMESPACE_LENGTH) {
    throw badName(field, shown, `is longer than ${MAX_NAMESPACE_LENGTH} characters`);
  }
  return Object.freeze([...components]);
}

/** Parses the display form `a/b/c`; the empty string is the root namespace. */
export function parseNamespace(display: unknown): Namespace {
  if (typeof display !== "string") throw badName("namespace", display, "must be a string");
  if (display === "") return ROOT_NAMESPACE;
  return validateNamespace(display.split("/"), "namespace", display);
}

export function namespaceToDisplay(namespace: Namespace): string {
  return validateNamespace(namespace).join("/");
}

/** The relative directory `ns/a/ns/b`; the root namespace is the datastore itself, "". */
export function namespaceToPath(namespace: Namespace): string {
  return validateNamespace(namespace)
    .map((component) => `ns/${component}`)
    .join("/");
}

/** Parses the path form `ns/a/ns/b` exactly (no leading, trailing or doubled slashes). */
export function parseNamespacePath(path: unknown): Namespace {
  if (typeof path !== "string") throw badName("namespace path", path, "must be a string");
  if (path === "") return ROOT_NAMESPACE;
  const parts = path.split("/");
  const alternates =
    parts.length % 2 === 0 && parts.every((part, i) => i % 2 === 1 || part === "ns");
  if (!alternates) {
    throw badName("namespace path", path, "must alternate 'ns' and a component, like ns/a/ns/b");
  }
  return validateNamespace(
    parts.filter((_, i) => i % 2 === 1),
    "namespace path",
    path,
  );
}

// ---- snapshot times ----

export const MIN_BACKUP_TIME = 1;
/** 9999-12-31T23:59:59Z: the directory name has room for four year digits only. */
export const MAX_BACKUP_TIME = 253_402_300_799;

function badTime(field: string, value: unknown, rule: string): DatastoreError {
  return new DatastoreError("bad-time", `invalid ${field} ${showValue(value)}: ${rule}`, {
    field,
    value: showValue(value),
  });
}

/** A backup time in whole seconds since the epoch, within what a snapshot directory can name. */
export function validateBackupTime(value: unknown): number {
  const valid =
    typeof value === "number" &&
    Number.isInteger(value) &&
    value >= MIN_BACKUP_TIME &&
    value <= MAX_BACKUP_TIME;
  if (!valid) {
    throw badTime("backup time", value, `must be whole seconds from 1 to ${MAX_BACKUP_TIME}`);
  }
  return value;
}

/** The snapshot directory name, UTC with a trailing Z: `2024-03-30T23:00:00Z`. */
export function formatSnapshotTime(backupTime: number): string {
  const iso = new Date(validateBackupTime(backupTime) * 1000).toISOString();
  return `${iso.slice(0, 19)}Z`;
}

const SNAPSHOT_TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/;

/** Parses a snapshot directory name; only real times written exactly as formatSnapshotTime does. */
export function parseSnapshotTime(text: unknown): number {
  const match = typeof text === "string" ? SNAPSHOT_TIME.exec(text) : null;
  if (match !== null) {
    const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as number[];
    const backupTime = Date.UTC(year!, month! - 1, day, hour, minute, second) / 1000;
    // The round trip refuses what Date.UTC would silently roll over (Feb 30, 24:00, :60).
    const inRange = backupTime >= MIN_BACKUP_TIME && backupTime <= MAX_BACKUP_TIME;
    if (inRange && formatSnapshotTime(backupTime) === text) return backupTime;
  }
  throw badTime(
    "snapshot time",
    text,
    "must be a real UTC time written YYYY-MM-DDTHH:MM:SSZ, after 1970-01-01T00:00:00Z",
  );
}

// ---- datastores, archives, chunks ----

export function validateDatastoreName(value: unknown): string {
  return validateSafeId("datastore name", value, 3, 32);
}

/** Leaves room for a temporary-file suffix within the file system's 255-byte name limit. */
export const MAX_ARCHIVE_NAME_LENGTH = 200;
const ARCHIVE_SUFFIX = /\.(fidx|didx|blob)$/;

/** A file inside a snapshot directory: a safe-id ending in .fidx, .didx or .blob. */
export function validateArchiveName(value: unknown): string {
  const problem =
    safeIdProblem(value, 1, MAX_ARCHIVE_NAME_LENGTH) ??
    (ARCHIVE_SUFFIX.test(value as string) ? undefined : "must end in .fidx, .didx or .blob");
  if (problem !== undefined) throw badName("archive name", value, problem);
  return value as string;
}

const CHUNK_DIGEST = /^[0-9a-f]{64}$/;

/** A chunk digest as its 64 lowercase hex characters. */
export function validateChunkDigest(value: unknown): string {
  if (typeof value === "string" && CHUNK_DIGEST.test(value)) return value;
  throw new DatastoreError(
    "bad-digest",
    `invalid chunk digest ${showValue(value)}: must be exactly 64 lowercase hex characters`,
    { field: "chunk digest", value: showValue(value) },
  );
}

// ---- relative paths ----

export const CHUNK_DIR = ".chunks";

/** `[ns/a/…/]<type>/<id>`, relative to the datastore. */
export function groupPath(namespace: Namespace, type: BackupType, id: string): string {
  const group = `${validateBackupType(type)}/${validateBackupId(id)}`;
  const prefix = namespaceToPath(namespace);
  return prefix === "" ? group : `${prefix}/${group}`;
}

/** `[ns/a/…/]<type>/<id>/<YYYY-MM-DDTHH:MM:SSZ>`, relative to the datastore. */
export function snapshotPath(
  namespace: Namespace,
  type: BackupType,
  id: string,
  backupTime: number,
): string {
  return `${groupPath(namespace, type, id)}/${formatSnapshotTime(backupTime)}`;
}

/** `.chunks/<first 4 hex>/<digest>`, relative to the datastore. */
export function chunkPath(digest: string): string {
  const hex = validateChunkDigest(digest);
  return `${CHUNK_DIR}/${hex.slice(0, 4)}/${hex}`;
}
