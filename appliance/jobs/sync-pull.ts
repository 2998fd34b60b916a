/**
 * Pull sync (pbs-formats.md §12): new snapshots of the selected groups are copied from a source
 * into a local datastore. Only chunks missing locally cross the wire, each checked by the chunk
 * store as it is inserted; a snapshot becomes visible only when its manifest is written, after
 * every file matched it. An interrupted sync leaves its chunks behind, so the next run fetches
 * only the rest.
 */
import { createHash } from "node:crypto";
import type { Datastore } from "../datastore/datastore.js";
import {
  CLIENT_LOG_BLOB_NAME,
  decodeManifestBlob,
  MANIFEST_BLOB_NAME,
} from "../datastore/manifest-file.js";
import {
  type BackupGroupName,
  MAX_NAMESPACE_DEPTH,
  type Namespace,
  namespaceToDisplay,
} from "../datastore/names.js";
import { ownerMatches } from "../datastore/owner.js";
import type { SnapshotWriter } from "../datastore/snapshot-writer.js";
import { type SnapshotRef, showSnapshot } from "../datastore/snapshots.js";
import { blobCryptMode } from "../format/blob.js";
import { DynamicIndexReader } from "../format/dynamic-index.js";
import { FixedIndexReader } from "../format/fixed-index.js";
import type { IndexReader } from "../format/index-file.js";
import {
  archiveKind,
  checkManifestFile,
  type Manifest,
  type ManifestFile,
} from "../format/manifest.js";
import { JobError } from "./errors.js";
import { type GroupFilter, groupPasses } from "./group-filter.js";
import { inParallel } from "./in-parallel.js";
import { rebaseNamespace, recordSyncFailure, syncDepth } from "./sync-namespaces.js";
import type { SourceSnapshot, SyncSource } from "./sync-source.js";

export interface PullOptions {
  /** Local namespace the source namespace maps to (default: the root). */
  ns?: Namespace;
  /** Source namespace to start from (default: the root). */
  remoteNs?: Namespace;
  /** Namespace levels below `remoteNs` to sync (default: all). */
  maxDepth?: number;
  /** Owner of new local groups; existing ones must belong to it. */
  owner: string;
  groupFilter?: readonly GroupFilter[];
  /** Remove local snapshots, groups and namespaces the source no longer has (never protected snapshots). */
  removeVanished?: boolean;
  /** Sync only the newest N snapshots of each group. */
  transferLast?: number;
  signal?: AbortSignal;
  log?: (level: "info" | "warn", message: string) => void;
  /** Chunk downloads in flight at once (default 4). */
  concurrency?: number;
}

export interface PullStats {
  /** Snapshots copied. */
  snapshots: number;
  chunksDownloaded: number;
  /** Bytes received: encoded chunks and files as stored. */
  bytesDownloaded: number;
  /** Chunks the index named that were already in the local store. */
  chunksPresent: number;
  removedSnapshots: number;
  removedGroups: number;
  removedNamespaces: number;
  /** One line per group or namespace that failed; the sync goes on with the next. */
  errors: string[];
}

interface PullRun {
  target: Datastore;
  source: SyncSource;
  options: PullOptions;
  stats: PullStats;
  /** Chunks fetched or confirmed present in this run. */
  known: Set<string>;
  log(level: "info" | "warn", message: string): void;
}

/** Runs one pull sync; group failures are collected in `errors`, not thrown. */
export async function pullSync(
  target: Datastore,
  source: SyncSource,
  options: PullOptions,
): Promise<PullStats> {
  const run: PullRun = {
    target,
    source,
    options,
    stats: {
      snapshots: 0,
      chunksDownloaded: 0,
      bytesDownloaded: 0,
      chunksPresent: 0,
      removedSnapshots: 0,
      removedGroups: 0,
      removedNamespaces: 0,
      errors: [],
    },
    known: new Set(),
    log: options.log ?? (() => {}),
  };
  const localBase = options.ns ?? [];
  const remoteBase = options.remoteNs ?? [];
  const maxDepth = syncDepth(localBase, options.maxDepth, "local");
  const synced: Namespace[] = [];
  for (const sourceNs of await source.namespaces(remoteBase, maxDepth)) {
    options.signal?.throwIfAborted();
    try {
      const localNs = rebaseNamespace(sourceNs, remoteBase, localBase);
      if (!(await target.namespaceExists(localNs))) await target.createNamespace(localNs);
      synced.push(localNs);
      await pullNamespace(run, sourceNs, localNs);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      fail(run, `namespace ${namespaceToDisplay(sourceNs) || "<root>"}`, err);
    }
  }
  if (options.removeVanished) await removeVanishedNamespaces(run, localBase, maxDepth, synced);
  return run.stats;
}

function fail(run: PullRun, what: string, err: unknown): void {
  recordSyncFailure(run, "sync", what, err);
}

async function pullNamespace(run: PullRun, sourceNs: Namespace, localNs: Namespace) {
  const filters = run.options.groupFilter ?? [];
  const groups = (await run.source.groups(sourceNs)).filter((group) => groupPasses(filters, group));
  for (const group of groups) {
    run.options.signal?.throwIfAborted();
    try {
      await pullGroup(run, sourceNs, localNs, group);
    } catch (err) {
      if (run.options.signal?.aborted) throw err;
      fail(run, `group ${showGroup(localNs, group)}`, err);
    }
  }
  if (run.options.removeVanished) {
    const present = new Set(groups.map((group) => `${group.type}/${group.id}`));
    for (const group of await run.target.listGroupNames(localNs)) {
      if (present.has(`${group.type}/${group.id}`) || !groupPasses(filters, group)) continue;
      await removeVanishedGroup(run, localNs, group);
    }
  }
}

function showGroup(ns: Namespace, group: BackupGroupName): string {
  const prefix = ns.length > 0 ? `[ns ${namespaceToDisplay(ns)}] ` : "";
  return `${prefix}${group.type}/${group.id}`;
}

async function pullGroup(
  run: PullRun,
  sourceNs: Namespace,
  localNs: Namespace,
  group: BackupGroupName,
) {
  const { target, options } = run;
  const listed = await run.source.snapshots(sourceNs, group);
  const finished = listed.filter((item) => item.finished).sort((a, b) => a.time - b.time);
  const exists = await target.groupExists(localNs, group.type, group.id);
  const local = exists ? await target.listSnapshots(localNs, group) : [];
  if (exists) {
    const owner = await target.getOwner(localNs, group.type, group.id);
    if (!ownerMatches(owner, options.owner)) {
      throw new JobError(
        "bad-config",
        `local group ${showGroup(localNs, group)} belongs to ${owner}, not to the sync owner ${options.owner}`,
        { owner },
      );
    }
  }
  const lastSync = local
    .filter((info) => info.finished)
    .reduce<number | undefined>(
      (newest, info) => Math.max(newest ?? info.time, info.time),
      undefined,
    );
  const cutoff = options.transferLast === undefined ? 0 : finished.length - options.transferLast;
  for (const [position, item] of finished.entries()) {
    if (lastSync !== undefined && item.time <= lastSync) continue;
    if (position < cutoff) continue;
    options.signal?.throwIfAborted();
    const sourceRef: SnapshotRef = { ns: sourceNs, ...group, time: item.time };
    await pullSnapshot(run, sourceRef, { ...sourceRef, ns: localNs });
  }
  if (options.removeVanished) {
    const present = new Set(listed.map((item) => item.time));
    for (const info of local) {
      if (!info.finished || present.has(info.time)) continue;
      await removeVanishedSnapshot(run, info, info.protected);
    }
  }
}

async function pullSnapshot(run: PullRun, sourceRef: SnapshotRef, localRef: SnapshotRef) {
  const { target, options } = run;
  const snapshot = await run.source.open(sourceRef);
  try {
    const manifestBytes = await snapshot.file(MANIFEST_BLOB_NAME);
    run.stats.bytesDownloaded += manifestBytes.length;
    const manifest = decodeManifestBlob(manifestBytes);
    const writer = await target.beginBackup({ ...localRef, owner: options.owner });
    try {
      for (const file of manifest.files) await pullFile(run, snapshot, writer, manifest, file);
      const clientLog = await snapshot.file(CLIENT_LOG_BLOB_NAME).catch(() => undefined);
      if (clientLog !== undefined) await writer.writeBlob(CLIENT_LOG_BLOB_NAME, clientLog);
      // finish() checks every manifest file against what was written before the manifest lands
      await writer.finish(manifestBytes, { keepBytes: true });
    } catch (err) {
      await writer.abort();
      throw err;
    }
    run.stats.snapshots++;
    run.log("info", `synced ${showSnapshot(localRef)}`);
  } finally {
    await snapshot.close();
  }
}

async function pullFile(
  run: PullRun,
  snapshot: SourceSnapshot,
  writer: SnapshotWriter,
  manifest: Manifest,
  file: ManifestFile,
) {
  const bytes = await snapshot.file(file.filename);
  run.stats.bytesDownloaded += bytes.length;
  const kind = archiveKind(file.filename);
  if (kind === "blob" || kind === undefined) {
    const csum = createHash("sha256").update(bytes).digest("hex");
    if (bytes.length !== file.size || csum !== file.csum) {
      throw new JobError(
        "bad-source",
        `${file.filename} as downloaded does not match the manifest (size ${bytes.length}, expected ${file.size})`,
        { filename: file.filename },
      );
    }
    await writer.writeBlob(file.filename, bytes);
    return;
  }
  const index: IndexReader =
    kind === "fixed-index" ? FixedIndexReader.parse(bytes) : DynamicIndexReader.parse(bytes);
  checkManifestFile(manifest, file.filename, index.computeCsum());
  await pullChunks(run, snapshot, writer, index, file);
  await writer.copyIndex(file.filename, bytes);
}

/** Every chunk the index names into the local store: present ones touched, missing ones fetched. */
async function pullChunks(
  run: PullRun,
  snapshot: SourceSnapshot,
  writer: SnapshotWriter,
  index: IndexReader,
  file: ManifestFile,
) {
  const wanted = new Map<string, number>();
  for (let i = 0; i < index.count; i++) {
    const digest = index.digest(i).toString("hex");
    const { start, end } = index.chunkRange(i);
    if (!run.known.has(digest)) wanted.set(digest, end - start);
  }
  const encrypted = file.cryptMode === "encrypt";
  const fetchOne = async ([digest, size]: [string, number]) => {
    run.options.signal?.throwIfAborted();
    if (run.known.has(digest)) return;
    if (await run.target.chunks.touch(digest)) {
      run.stats.chunksPresent++;
    } else {
      const encoded = await snapshot.chunk(digest);
      if ((blobCryptMode(encoded) === "encrypt") !== encrypted) {
        throw new JobError(
          "bad-source",
          `chunk ${digest} of ${file.filename} is ${encrypted ? "not " : ""}encrypted, the manifest says crypt-mode ${file.cryptMode}`,
          { digest, filename: file.filename },
        );
      }
      // insert checks the digest (unencrypted) or the CRC (encrypted: no key here)
      await writer.insertChunk(digest, encoded, encrypted ? undefined : size);
      run.stats.chunksDownloaded++;
      run.stats.bytesDownloaded += encoded.length;
    }
    run.known.add(digest);
  };
  await inParallel([...wanted], run.options.concurrency ?? 4, fetchOne);
}

async function removeVanishedSnapshot(run: PullRun, ref: SnapshotRef, isProtected: boolean) {
  if (isProtected) {
    run.log("info", `kept vanished snapshot ${showSnapshot(ref)}: it is protected`);
    return;
  }
  try {
    await run.target.deleteSnapshot(ref);
    run.stats.removedSnapshots++;
    run.log("info", `removed vanished snapshot ${showSnapshot(ref)}`);
  } catch (err) {
    fail(run, `removal of ${showSnapshot(ref)}`, err);
  }
}

/** A group the source no longer has, when it belongs to the sync owner: all but protected snapshots go. */
async function removeVanishedGroup(run: PullRun, ns: Namespace, group: BackupGroupName) {
  const { target } = run;
  const owner = await target.getOwner(ns, group.type, group.id).catch(() => undefined);
  if (owner === undefined || !ownerMatches(owner, run.options.owner)) return;
  let kept = 0;
  for (const info of await target.listSnapshots(ns, group)) {
    await removeVanishedSnapshot(run, info, info.protected);
    if (info.protected) kept++;
  }
  if (kept > 0) return;
  try {
    await target.deleteGroup(ns, group.type, group.id);
    run.stats.removedGroups++;
    run.log("info", `removed vanished group ${showGroup(ns, group)}`);
  } catch (err) {
    fail(run, `removal of group ${showGroup(ns, group)}`, err);
  }
}

/** Local namespaces below the target the source no longer has, deepest first, if emptied. */
async function removeVanishedNamespaces(
  run: PullRun,
  base: Namespace,
  maxDepth: number,
  synced: readonly Namespace[],
) {
  const { target } = run;
  if (!(await target.namespaceExists(base))) return;
  const present = new Set(synced.map(namespaceToDisplay));
  const local = await target.listNamespaces(
    base,
    Math.min(maxDepth, MAX_NAMESPACE_DEPTH - base.length),
  );
  for (const ns of local.reverse()) {
    if (present.has(namespaceToDisplay(ns)) || ns.length === base.length) continue;
    for (const group of await target.listGroupNames(ns)) {
      if (groupPasses(run.options.groupFilter ?? [], group))
        await removeVanishedGroup(run, ns, group);
    }
    try {
      await target.deleteNamespace(ns);
      run.stats.removedNamespaces++;
      run.log("info", `removed vanished namespace ${namespaceToDisplay(ns)}`);
    } catch (err) {
      run.log(
        "warn",
        `kept vanished namespace ${namespaceToDisplay(ns)}: ${(err as Error).message}`,
      );
    }
  }
}
