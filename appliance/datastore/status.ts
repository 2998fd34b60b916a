import { readFile, statfs } from "node:fs/promises";
import { join } from "node:path";
import type { Datastore } from "./datastore.js";
import { isMissing } from "./errors.js";
import { GC_STATUS_FILE, type GcStatus } from "./gc.js";
import { BACKUP_TYPES, type BackupType } from "./names.js";
import { listSnapshotTimes } from "./snapshots.js";

export interface TypeCounts {
  /** Groups holding at least one snapshot (PBS leaves empty groups out). */
  groups: number;
  /** Snapshot directories, finished or not. */
  snapshots: number;
}

/** What PBS's datastore status shows: space of the file system, contents, last GC. */
export interface DatastoreStatus {
  /** Bytes of the file system holding the datastore. */
  total: number;
  used: number;
  /** Bytes an unprivileged writer can still use. */
  avail: number;
  /** Over every namespace. */
  counts: Record<BackupType, TypeCounts>;
  /** The last garbage collection's result, when one ran. */
  gcStatus?: GcStatus;
}

export async function datastoreStatus(datastore: Datastore): Promise<DatastoreStatus> {
  const fs = await statfs(datastore.root);
  const counts = Object.fromEntries(
    BACKUP_TYPES.map((type) => [type, { groups: 0, snapshots: 0 }]),
  ) as Record<BackupType, TypeCounts>;
  for (const ns of await datastore.listNamespaces()) {
    for (const { type, id } of await datastore.listGroupNames(ns)) {
      const snapshots = (await listSnapshotTimes(datastore.groupDir(ns, type, id))).length;
      if (snapshots === 0) continue;
      counts[type].groups++;
      counts[type].snapshots += snapshots;
    }
  }
  const gcStatus = await readGcStatus(datastore.root);
  return {
    total: fs.blocks * fs.bsize,
    used: (fs.blocks - fs.bfree) * fs.bsize,
    avail: fs.bavail * fs.bsize,
    counts,
    ...(gcStatus && { gcStatus }),
  };
}

/** `.gc-status`, or undefined when GC never ran or the file is not JSON (a status, not a failure). */
async function readGcStatus(root: string): Promise<GcStatus | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(join(root, GC_STATUS_FILE), "utf8"));
    return typeof value === "object" && value !== null ? (value as GcStatus) : undefined;
  } catch (err) {
    if (isMissing(err) || err instanceof SyntaxError) return undefined;
    throw err;
  }
}
