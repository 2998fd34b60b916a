import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CryptMode, Manifest } from "../format/manifest.js";
import { isMissing } from "./errors.js";
import { CLIENT_LOG_BLOB_NAME, MANIFEST_BLOB_NAME, readManifestFile } from "./manifest-file.js";
import {
  type BackupType,
  type Namespace,
  namespaceToDisplay,
  parseSnapshotTime,
  snapshotPath,
  validateBackupId,
} from "./names.js";

/**
 * Reading what the directories of a group and its snapshots hold, without locks: what a listing
 * shows. Anything that changes the store takes its lock in datastore.ts.
 */

export const OWNER_FILE = "owner";
export const GROUP_NOTES_FILE = "notes";
export const PROTECTED_MARKER = ".protected";
/** Files a snapshot directory may hold (temporary `*.tmp_*` files never match). */
const ARCHIVE_FILE = /^.*\.(fidx|didx|blob)$/;

/** One snapshot: namespace, group and backup time (epoch seconds). */
export interface SnapshotRef {
  readonly ns: Namespace;
  readonly type: BackupType;
  readonly id: string;
  readonly time: number;
}

/** The snapshot's path relative to the datastore; validates every part. */
export function snapshotRefPath(ref: SnapshotRef): string {
  return snapshotPath(ref.ns, ref.type, ref.id, ref.time);
}

/** `[ns a/b] host/x/2024-…Z`, for messages. */
export function showSnapshot(ref: SnapshotRef): string {
  const ns = ref.ns.length > 0 ? `[ns ${namespaceToDisplay(ref.ns)}] ` : "";
  return `${ns}${snapshotPath([], ref.type, ref.id, ref.time)}`;
}

export interface VerifyState {
  upid: string;
  state: "ok" | "failed";
}

export interface SnapshotFileInfo {
  filename: string;
  /** From the manifest; unknown for an unfinished snapshot. */
  cryptMode?: CryptMode;
  /** Data size for indexes, encoded size for blobs; unknown for an unfinished snapshot. */
  size?: number;
}

export interface SnapshotInfo extends SnapshotRef {
  /** The manifest exists: the backup completed. */
  finished: boolean;
  protected: boolean;
  files: SnapshotFileInfo[];
  /** Sum of the file sizes, when the manifest gives them. */
  size?: number;
  /** First line of the notes. */
  comment?: string;
  verification?: VerifyState;
  /** `unprotected.key-fingerprint` of an encrypted or signed backup. */
  fingerprint?: string;
  /** Owner of the group. */
  owner?: string;
  /** Why the manifest of a finished snapshot could not be read. */
  manifestError?: string;
}

/** Snapshot times in a group directory, oldest first; names that are not snapshot times are skipped. */
export async function listSnapshotTimes(groupDir: string): Promise<number[]> {
  const times: number[] = [];
  for (const entry of await readDirectory(groupDir)) {
    if (!entry.isDirectory()) continue;
    const time = parseTimeOrUndefined(entry.name);
    if (time !== undefined) times.push(time);
  }
  return times.sort((a, b) => a - b);
}

/** Group ids of one type in a namespace directory, unsorted; invalid names are skipped. */
export async function listGroupIds(namespaceDir: string, type: BackupType): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of await readDirectory(join(namespaceDir, type))) {
    if (entry.isDirectory() && isValidId(entry.name)) ids.push(entry.name);
  }
  return ids;
}

export async function hasManifest(snapshotDir: string): Promise<boolean> {
  return exists(join(snapshotDir, MANIFEST_BLOB_NAME));
}

/** What a snapshot listing shows of one snapshot directory. */
export async function readSnapshotInfo(dir: string, ref: SnapshotRef): Promise<SnapshotInfo> {
  const base = { ns: ref.ns, type: ref.type, id: ref.id, time: ref.time };
  const isProtected = await exists(join(dir, PROTECTED_MARKER));
  if (!(await hasManifest(dir))) {
    return { ...base, finished: false, protected: isProtected, files: await archiveFiles(dir) };
  }
  let manifest: Manifest;
  try {
    manifest = await readManifestFile(dir);
  } catch (err) {
    const manifestError = err instanceof Error ? err.message : String(err);
    return {
      ...base,
      finished: true,
      protected: isProtected,
      files: await archiveFiles(dir),
      manifestError,
    };
  }
  const files = await manifestFiles(dir, manifest);
  const notes = manifest.unprotected.notes;
  const fingerprint = manifest.unprotected["key-fingerprint"];
  const verification = readVerifyState(manifest);
  return {
    ...base,
    finished: true,
    protected: isProtected,
    files,
    size: files.reduce((sum, file) => sum + (file.size ?? 0), 0),
    ...(typeof notes === "string" && notes !== "" && { comment: firstLine(notes) }),
    ...(verification && { verification }),
    ...(typeof fingerprint === "string" && { fingerprint }),
  };
}

/** The manifest's files, then the manifest itself and the client log when present, as PBS lists them. */
async function manifestFiles(dir: string, manifest: Manifest): Promise<SnapshotFileInfo[]> {
  const files: SnapshotFileInfo[] = manifest.files.map((file) => ({
    filename: file.filename,
    cryptMode: file.cryptMode,
    size: file.size,
  }));
  const manifestSize = await fileSize(join(dir, MANIFEST_BLOB_NAME));
  files.push({
    filename: MANIFEST_BLOB_NAME,
    cryptMode: manifest.signature === null ? "none" : "sign-only",
    ...(manifestSize !== undefined && { size: manifestSize }),
  });
  const logSize = await fileSize(join(dir, CLIENT_LOG_BLOB_NAME));
  if (logSize !== undefined) files.push({ filename: CLIENT_LOG_BLOB_NAME, size: logSize });
  return files;
}

async function archiveFiles(dir: string): Promise<SnapshotFileInfo[]> {
  return (await readDirectory(dir))
    .filter((entry) => entry.isFile() && ARCHIVE_FILE.test(entry.name))
    .map((entry) => ({ filename: entry.name }))
    .sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
}

/** `unprotected.verify_state` when it has the shape verify writes, else undefined. */
export function readVerifyState(manifest: Manifest): VerifyState | undefined {
  const value = manifest.unprotected.verify_state as Partial<VerifyState> | undefined;
  if (typeof value !== "object" || value === null) return undefined;
  if (typeof value.upid !== "string") return undefined;
  if (value.state !== "ok" && value.state !== "failed") return undefined;
  return { upid: value.upid, state: value.state };
}

export function firstLine(text: string): string {
  return text.split("\n", 1)[0]!.replace(/\r$/, "");
}

/** A small text file (owner, notes) without its trailing newline; undefined when absent. */
export async function readTextFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export async function exists(path: string): Promise<boolean> {
  return (await fileSize(path)) !== undefined;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

async function readDirectory(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

function parseTimeOrUndefined(name: string): number | undefined {
  try {
    return parseSnapshotTime(name);
  } catch {
    return undefined;
  }
}

function isValidId(name: string): boolean {
  try {
    validateBackupId(name);
    return true;
  } catch {
    return false;
  }
}
