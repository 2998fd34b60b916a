import type { Datastore } from "../../../datastore/datastore.js";
import type { Namespace } from "../../../datastore/names.js";
import { ownerMatches } from "../../../datastore/owner.js";
import type { SnapshotRef } from "../../../datastore/snapshots.js";
import {
  needsVerify,
  type SnapshotVerifyResult,
  Verifier,
  type VerifyFilters,
  verifyDatastore,
  verifySnapshot,
} from "../../../datastore/verify.js";
import type { TaskContext } from "../../tasks/task-manager.js";

/** What the verify endpoint asked for, resolved to one of three scopes. */
export type VerifyScope =
  | { kind: "snapshot"; ref: SnapshotRef }
  | { kind: "group"; ns: Namespace; type: SnapshotRef["type"]; id: string }
  | { kind: "namespace"; ns: Namespace; maxDepth?: number; ownedBy?: string };

function verifierFor(task: TaskContext): Verifier {
  return new Verifier({
    upid: task.upid,
    onLog: (level, message) => (level === "info" ? task.log(message) : task.warn(message)),
  });
}

async function isDue(store: Datastore, ref: SnapshotRef, filters: VerifyFilters): Promise<boolean> {
  try {
    const now = Math.floor(Date.now() / 1000);
    return needsVerify(await store.readManifest(ref), { ...filters, now });
  } catch {
    return true; // an unreadable manifest is for verify to report
  }
}

/** Finished snapshots of a group, newest first, that the filters select. */
async function dueSnapshots(
  store: Datastore,
  ns: Namespace,
  group: { type: SnapshotRef["type"]; id: string },
  filters: VerifyFilters,
): Promise<SnapshotRef[]> {
  const due: SnapshotRef[] = [];
  const finished = (await store.listSnapshots(ns, group)).filter((info) => info.finished);
  for (const ref of finished.reverse()) if (await isDue(store, ref, filters)) due.push(ref);
  return due;
}

/** The snapshots a scope covers; a snapshot named explicitly is verified regardless of filters. */
async function snapshotsOf(
  store: Datastore,
  scope: VerifyScope,
  filters: VerifyFilters,
): Promise<SnapshotRef[]> {
  if (scope.kind === "snapshot") return [scope.ref];
  if (scope.kind === "group") return dueSnapshots(store, scope.ns, scope, filters);
  const refs: SnapshotRef[] = [];
  for (const ns of await store.listNamespaces(scope.ns, scope.maxDepth)) {
    for (const group of await store.listGroups(ns)) {
      if (group.type === "host" && group.id === "benchmark") continue;
      if (scope.ownedBy && !(group.owner && ownerMatches(group.owner, scope.ownedBy))) continue;
      refs.push(...(await dueSnapshots(store, ns, group, filters)));
    }
  }
  return refs;
}

/**
 * The body of a verify task: every snapshot of the scope checked by one Verifier (each chunk
 * once), failures listed at the end and the task failed as PBS fails it.
 */
export async function runVerify(
  task: TaskContext,
  store: Datastore,
  scope: VerifyScope,
  filters: VerifyFilters,
): Promise<void> {
  const verifier = verifierFor(task);
  let results: SnapshotVerifyResult[];
  if (scope.kind === "namespace" && scope.ownedBy === undefined) {
    const run = await verifyDatastore(store, {
      ns: scope.ns,
      verifier,
      filters,
      signal: task.signal,
      ...(scope.maxDepth !== undefined && { maxDepth: scope.maxDepth }),
    });
    results = run.results;
  } else {
    results = [];
    for (const ref of await snapshotsOf(store, scope, filters)) {
      task.signal.throwIfAborted();
      results.push(await verifySnapshot(store, ref, { verifier }));
    }
  }
  const failed = results.filter((result) => result.state === "failed");
  if (failed.length === 0) return;
  task.log("Failed to verify the following snapshots:");
  for (const result of failed) task.log(`\t${result.snapshot}`);
  throw new Error("verification failed - please check the log for details");
}
