import { formatSnapshotTime, parseSnapshotTime } from "../datastore/names.js";
import { BACKUP_TYPES, type BackupType } from "../format/manifest.js";
import { ClientError } from "./errors.js";

export interface GroupRef {
  type: BackupType;
  id: string;
}

export interface SnapshotRef extends GroupRef {
  /** Epoch seconds. */
  time: number;
}

/** `host/elsa` → the group. */
export function parseGroupRef(text: string): GroupRef {
  const parts = text.split("/");
  if (parts.length !== 2 || !isBackupType(parts[0]!) || parts[1] === "") {
    throw new ClientError(
      "bad-argument",
      `'${text}' is not a backup group (TYPE/ID, e.g. host/elsa)`,
    );
  }
  return { type: parts[0] as BackupType, id: parts[1]! };
}

/** `host/elsa/2024-03-30T23:00:00Z` → the snapshot. */
export function parseSnapshotRef(text: string): SnapshotRef {
  const parts = text.split("/");
  if (parts.length !== 3 || !isBackupType(parts[0]!) || parts[1] === "") {
    throw new ClientError(
      "bad-argument",
      `'${text}' is not a snapshot (TYPE/ID/TIME, e.g. host/elsa/2024-03-30T23:00:00Z)`,
    );
  }
  try {
    return { type: parts[0] as BackupType, id: parts[1]!, time: parseSnapshotTime(parts[2]) };
  } catch (err) {
    throw new ClientError("bad-argument", `'${text}': ${(err as Error).message}`);
  }
}

export function formatSnapshotRef(ref: SnapshotRef): string {
  return `${ref.type}/${ref.id}/${formatSnapshotTime(ref.time)}`;
}

function isBackupType(text: string): boolean {
  return (BACKUP_TYPES as readonly string[]).includes(text);
}
