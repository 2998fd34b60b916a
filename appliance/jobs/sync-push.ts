/**
 * Push sync: new snapshots of the selected local groups are written to a remote datastore through
 * its backup protocol, as a client would write them. Only chunks the remote's previous snapshot of
 * the group does not list cross the wire (the known-chunk rule: the protocol has no other way to
 * ask the remote what it holds). With remove-vanished, remote snapshots, groups and namespaces
 * the local side no longer has are deleted through the remote's REST API, never protected ones.
 */
import type { Datastore } from "../datastore/datastore.js";
import {
  type BackupGroupName,
  MAX_NAMESPACE_DEPTH,
  type Namespace,
  namespaceToDisplay,
} from "../datastore/names.js";
import { ownerMatches } from "../datastore/owner.js";
import { type SnapshotRef, showSnapshot } from "../datastore/snapshots.js";
import { type GroupFilter, groupPasses } from "./group-filter.js";
import { rebaseNamespace, recordSyncFailure, syncDepth } from "./sync-namespaces.js";
import { type PushCounters, pushSnapshot } from "./sync-push-snapshot.js";
import type { PushTarget, TargetGroup } from "./sync-push-target.js";

export interface PushOptions {
  /** Local namespace to push from (default: the root). */
  ns?: Namespace;
  /** Remote namespace the local one maps to (default: the root); it must exist. */
  remoteNs?: Namespace;
  /** Namespace levels below `ns` to push (default: all). */
  maxDepth?: number;
  groupFilter?: readonly GroupFilter[];
  /** Remove remote snapshots, groups and namespaces missing locally (never protected snapshots). */
  removeVanished?: boolean;
  /** Push only the newest N snapshots of each group. */
  transferLast?: number;
  signal?: AbortSignal;
  log?: (level: "info" | "warn", message: string) => void;
  /** Chunk uploads in flight at once (default 4). */
  concurrency?: number;
}

export interface PushStats extends PushCounters {
  /** Snapshots pushed. */
  snapshots: number;
  removedSnapshots: number;
  removedGroups: number;
  removedNamespaces: number;
  /** One line per group or namespace that failed; the push goes on with the next. */
  errors: string[];
}

interface PushRun {
  source: Datastore;
  target: PushTarget;
  options: PushOptions;
  stats: PushStats;
  log(level: "info" | "warn", message: string): void;
}

/** Runs one push sync; group failures are collected in `errors`, not thrown. */
export async function pushSync(
  source: Datastore,
  target: PushTarget,
  options: PushOptions,
): Promise<PushStats> {
  const run: PushRun = {
    source,
    target,
    options,
    stats: {
      snapshots: 0,
      chunksUploaded: 0,
      bytesUploaded: 0,
      chunksKnown: 0,
      removedSnapshots: 0,
      removedGroups: 0,
      removedNamespaces: 0,
      errors: [],
    },
    log: options.log ?? (() => {}),
  };
  const localBase = options.ns ?? [];
  const remoteBase = options.remoteNs ?? [];
  const maxDepth = syncDepth(remoteBase, options.maxDepth, "remote");
  const remoteDepth = Math.min(maxDepth, MAX_NAMESPACE_DEPTH - remoteBase.length);
  const existing = new Set(
    (await target.namespaces(remoteBase, remoteDepth)).map(namespaceToDisplay),
  );
  const pushed: Namespace[] = [];
  const localDepth = Math.min(maxDepth, MAX_NAMESPACE_DEPTH - localBase.length);
  for (const localNs of await source.listNamespaces(localBase, localDepth)) {
    options.signal?.throwIfAborted();
    try {
      const remoteNs = rebaseNamespace(localNs, localBase, remoteBase);
      if (!existing.has(namespaceToDisplay(remoteNs))) {
        await target.createNamespace(remoteNs);
        existing.add(namespaceToDisplay(remoteNs));
      }
      pushed.push(remoteNs);
      await pushNamespace(run, localNs, remoteNs);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      fail(run, `namespace ${namespaceToDisplay(localNs) || "<root>"}`, err);
    }
  }
  if (options.removeVanished) await removeVanishedNamespaces(run, remoteBase, remoteDepth, pushed);
  return run.stats;
}

function fail(run: PushRun, what: string, err: unknown): void {
  recordSyncFailure(run, "push", what, err);
}

function showGroup(ns: Namespace, group: BackupGroupName): string {
  const prefix = ns.length > 0 ? `[ns ${namespaceToDisplay(ns)}] ` : "";
  return `${prefix}${group.type}/${group.id}`;
}

const groupKey = (group: BackupGroupName) => `${group.type}/${group.id}`;

async function pushNamespace(run: PushRun, localNs: Namespace, remoteNs: Namespace) {
  const filters = run.options.groupFilter ?? [];
  const remoteGroups = await run.target.groups(remoteNs);
  const onRemote = new Set(remoteGroups.map(groupKey));
  const groups = (await run.source.listGroupNames(localNs)).filter((group) =>
    groupPasses(filters, group),
  );
  for (const group of groups) {
    run.options.signal?.throwIfAborted();
    try {
      await pushGroup(run, localNs, remoteNs, group, onRemote.has(groupKey(group)));
    } catch (err) {
      if (run.options.signal?.aborted) throw err;
      fail(run, `group ${showGroup(localNs, group)}`, err);
    }
  }
  if (run.options.removeVanished) {
    const present = new Set(groups.map(groupKey));
    for (const group of remoteGroups) {
      if (present.has(groupKey(group)) || !groupPasses(filters, group)) continue;
      await removeVanishedGroup(run, remoteNs, group);
    }
  }
}

async function pushGroup(
  run: PushRun,
  localNs: Namespace,
  remoteNs: Namespace,
  group: BackupGroupName,
  onRemote: boolean,
) {
  const { options } = run;
  const listed = await run.source.listSnapshots(localNs, group);
  const finished = listed.filter((info) => info.finished).sort((a, b) => a.time - b.time);
  const remote = onRemote ? await run.target.snapshots(remoteNs, group) : [];
  // the remote accepts only snapshots newer than the group's last one
  const lastRemote = remote
    .filter((item) => item.finished)
    .reduce<number | undefined>(
      (newest, item) => Math.max(newest ?? item.time, item.time),
      undefined,
    );
  const cutoff = options.transferLast === undefined ? 0 : finished.length - options.transferLast;
  for (const [position, info] of finished.entries()) {
    if (lastRemote !== undefined && info.time <= lastRemote) continue;
    if (position < cutoff) continue;
    options.signal?.throwIfAborted();
    await pushOne(run, { ns: localNs, ...group, time: info.time }, remoteNs);
  }
  if (options.removeVanished) {
    const present = new Set(listed.map((info) => info.time));
    for (const item of remote) {
      if (!item.finished || present.has(item.time)) continue;
      await removeVanishedSnapshot(
        run,
        { ns: remoteNs, ...group, time: item.time },
        item.protected,
      );
    }
  }
}

async function pushOne(run: PushRun, localRef: SnapshotRef, remoteNs: Namespace) {
  const remoteRef = { ...localRef, ns: remoteNs };
  const before = { uploaded: run.stats.chunksUploaded, known: run.stats.chunksKnown };
  const reader = await run.source.openReader(localRef);
  try {
    const session = await run.target.startBackup(remoteRef);
    await pushSnapshot(reader, session, run.stats, {
      ...(run.options.concurrency !== undefined && { concurrency: run.options.concurrency }),
      ...(run.options.signal !== undefined && { signal: run.options.signal }),
    });
  } finally {
    reader.close();
  }
  run.stats.snapshots++;
  const uploaded = run.stats.chunksUploaded - before.uploaded;
  const known = run.stats.chunksKnown - before.known;
  run.log(
    "info",
    `pushed ${showSnapshot(remoteRef)}: ${uploaded} chunk(s) uploaded, ${known} known to the remote`,
  );
}

async function removeVanishedSnapshot(run: PushRun, ref: SnapshotRef, isProtected: boolean) {
  if (isProtected) {
    run.log("info", `kept vanished remote snapshot ${showSnapshot(ref)}: it is protected`);
    return false;
  }
  try {
    await run.target.deleteSnapshot(ref);
    run.stats.removedSnapshots++;
    run.log("info", `removed vanished remote snapshot ${showSnapshot(ref)}`);
    return true;
  } catch (err) {
    fail(run, `removal of remote ${showSnapshot(ref)}`, err);
    return false;
  }
}

/** A remote group the local side no longer has, when a push made it (owned by the remote auth id). */
async function removeVanishedGroup(run: PushRun, ns: Namespace, group: TargetGroup) {
  if (group.owner === undefined || !ownerMatches(group.owner, run.target.authId)) return;
  let kept = 0;
  for (const item of await run.target.snapshots(ns, group)) {
    const ref = { ns, type: group.type, id: group.id, time: item.time };
    if (!(await removeVanishedSnapshot(run, ref, item.protected))) kept++;
  }
  if (kept > 0) return;
  try {
    await run.target.deleteGroup(ns, group);
    run.stats.removedGroups++;
    run.log("info", `removed vanished remote group ${showGroup(ns, group)}`);
  } catch (err) {
    fail(run, `removal of remote group ${showGroup(ns, group)}`, err);
  }
}

/** Remote namespaces below the target the local side no longer has, deepest first, if emptied. */
async function removeVanishedNamespaces(
  run: PushRun,
  base: Namespace,
  depth: number,
  pushed: readonly Namespace[],
) {
  const present = new Set(pushed.map(namespaceToDisplay));
  const remote = await run.target.namespaces(base, depth);
  for (const ns of remote.reverse()) {
    if (present.has(namespaceToDisplay(ns)) || ns.length === base.length) continue;
    for (const group of await run.target.groups(ns)) {
      if (groupPasses(run.options.groupFilter ?? [], group))
        await removeVanishedGroup(run, ns, group);
    }
    try {
      await run.target.deleteNamespace(ns);
      run.stats.removedNamespaces++;
      run.log("info", `removed vanished remote namespace ${namespaceToDisplay(ns)}`);
    } catch (err) {
      run.log(
        "warn",
        `kept vanished remote namespace ${namespaceToDisplay(ns)}: ${(err as Error).message}`,
      );
    }
  }
}
