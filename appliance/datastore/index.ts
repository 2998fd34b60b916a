/** The datastore's public surface: what the protocol, server, jobs and CLI use. */
export type { SyncLevel } from "./chunk-store.js";
export {
  type CreateDatastoreOptions,
  Datastore,
  type GroupInfo,
  type OpenDatastoreOptions,
  type PruneResultItem,
  type PruneRunOptions,
} from "./datastore.js";
export { DatastoreError } from "./errors.js";
export { type GcOptions, type GcStatus, garbageCollect } from "./gc.js";
export { CLIENT_LOG_BLOB_NAME, MANIFEST_BLOB_NAME } from "./manifest-file.js";
export {
  type BackupGroupName,
  type BackupType,
  type Namespace,
  namespaceToDisplay,
  parseNamespace,
  ROOT_NAMESPACE,
} from "./names.js";
export { ownerMatches, validateOwner } from "./owner.js";
export { type PruneOptions, pruneSelect, validatePruneOptions } from "./prune.js";
export type { IndexExpectation, SnapshotIndexFile } from "./snapshot-index-file.js";
export type { SnapshotReader } from "./snapshot-reader.js";
export type {
  BeginBackupOptions,
  ChunkUploadStats,
  PreviousSnapshot,
  SnapshotWriter,
} from "./snapshot-writer.js";
export type { SnapshotFileInfo, SnapshotInfo, SnapshotRef, VerifyState } from "./snapshots.js";
export type { DatastoreStatus, TypeCounts } from "./status.js";
export {
  type DatastoreVerifyResult,
  needsVerify,
  type SnapshotVerifyResult,
  Verifier,
  type VerifyFilters,
  type VerifyProblem,
  verifyDatastore,
  verifySnapshot,
} from "./verify.js";
