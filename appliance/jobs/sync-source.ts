/**
 * Where a pull sync reads from: a remote server's REST API and reader protocol, or another local
 * datastore. The sync engine sees only this contract.
 */
import type { BackupGroupName, Namespace } from "../datastore/names.js";
import type { SnapshotRef } from "../datastore/snapshots.js";

/** One snapshot as the source lists it. */
export interface SourceSnapshotItem {
  time: number;
  /** The source holds its manifest; unfinished ones are never synced. */
  finished: boolean;
  protected: boolean;
}

/** One snapshot opened for reading; `close` may be called more than once. */
export interface SourceSnapshot {
  /** A file as stored (the manifest, a blob or an index). An index must be read before its chunks. */
  file(name: string): Promise<Buffer>;
  /** An encoded chunk as stored; the caller checks it. */
  chunk(digest: string): Promise<Buffer>;
  close(): Promise<void>;
}

export interface SyncSource {
  /** For the task log, e.g. `remote siteA (10.0.0.2:8007), datastore store1`. */
  readonly description: string;
  /** `parent` and the namespaces below it, at most `maxDepth` levels down. */
  namespaces(parent: Namespace, maxDepth?: number): Promise<Namespace[]>;
  groups(ns: Namespace): Promise<BackupGroupName[]>;
  snapshots(ns: Namespace, group: BackupGroupName): Promise<SourceSnapshotItem[]>;
  open(ref: SnapshotRef): Promise<SourceSnapshot>;
  /** Ends what the source holds open (sessions, logins). */
  close(): Promise<void>;
}
