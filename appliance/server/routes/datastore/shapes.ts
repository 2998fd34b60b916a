import type { GroupInfo } from "../../../datastore/datastore.js";
import type { SnapshotFileInfo, SnapshotInfo } from "../../../datastore/snapshots.js";

/** PBS's BackupContent: one file of a snapshot. */
export function fileItem(file: SnapshotFileInfo) {
  return {
    filename: file.filename,
    ...(file.cryptMode !== undefined && { "crypt-mode": file.cryptMode }),
    ...(file.size !== undefined && { size: file.size }),
  };
}

/** PBS's SnapshotListItem. */
export function snapshotItem(info: SnapshotInfo & { owner?: string }) {
  return {
    "backup-type": info.type,
    "backup-id": info.id,
    "backup-time": info.time,
    ...(info.comment !== undefined && { comment: info.comment }),
    ...(info.verification !== undefined && { verification: info.verification }),
    ...(info.fingerprint !== undefined && { fingerprint: info.fingerprint }),
    files: info.files.map(fileItem),
    ...(info.size !== undefined && { size: info.size }),
    ...(info.owner !== undefined && { owner: info.owner }),
    protected: info.protected,
  };
}

/** PBS's GroupListItem; `files` are those of the last backup. */
export function groupItem(group: GroupInfo, lastBackup: number, files: string[]) {
  return {
    "backup-type": group.type,
    "backup-id": group.id,
    "last-backup": lastBackup,
    "backup-count": group.backupCount,
    files,
    ...(group.owner !== undefined && { owner: group.owner }),
    ...(group.comment !== undefined && { comment: group.comment }),
  };
}
