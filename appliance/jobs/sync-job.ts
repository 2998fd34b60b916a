import type { Datastore } from "../datastore/datastore.js";
import { parseNamespace } from "../datastore/names.js";
import { JobError } from "./errors.js";
import { parseGroupFilter } from "./group-filter.js";
import { configuredBucket, rateLimitedSource } from "./rate-limit.js";
import type { RemoteEndpoint } from "./remote-config.js";
import type { JobTask } from "./scheduler.js";
import { DEFAULT_SYNC_OWNER, type SyncJobConfig } from "./sync-config.js";
import { type PullStats, pullSync } from "./sync-pull.js";
import type { PushStats } from "./sync-push.js";
import { runPushJob } from "./sync-push-job.js";
import type { SyncSource } from "./sync-source.js";
import { localSyncSource } from "./sync-source-local.js";
import { remoteSyncSource } from "./sync-source-remote.js";

/** How a sync job finds its datastores and remotes (the server's registry and remote.json). */
export interface SyncJobEnvironment {
  openStore(name: string): Promise<Datastore>;
  remote(name: string): Promise<RemoteEndpoint>;
}

/** The job's source: a remote's datastore, or (without `remote`) a local one; rate-limited by rate-in. */
export async function syncSourceOf(
  config: SyncJobConfig,
  env: SyncJobEnvironment,
  signal?: AbortSignal,
): Promise<SyncSource> {
  const store = config["remote-store"];
  const source =
    config.remote === undefined
      ? localSyncSource(await env.openStore(store), store)
      : await remoteSyncSource(await env.remote(config.remote), store);
  const bucket = configuredBucket(config["rate-in"], config["burst-in"]);
  return bucket === undefined ? source : rateLimitedSource(source, bucket, signal);
}

/** A sync job's task: pull or push, report counts in the log, fail the task if any group failed. */
export async function runSyncJob(
  task: JobTask,
  config: SyncJobConfig,
  env: SyncJobEnvironment,
): Promise<PullStats | PushStats> {
  if (config["sync-direction"] === "push") return runPushJob(task, config, env);
  if (config.remote === undefined && config["remote-store"] === config.store) {
    const sameNs = (config.ns ?? "") === (config["remote-ns"] ?? "");
    if (sameNs)
      throw new JobError("bad-config", "a local sync cannot read and write one namespace");
  }
  const target = await env.openStore(config.store);
  const source = await syncSourceOf(config, env, task.signal);
  task.log(`sync from ${source.description} into datastore ${config.store}`);
  let stats: PullStats;
  try {
    stats = await pullSync(target, source, {
      ns: parseNamespace(config.ns ?? ""),
      remoteNs: parseNamespace(config["remote-ns"] ?? ""),
      ...(config["max-depth"] !== undefined && { maxDepth: config["max-depth"] }),
      owner: config.owner ?? DEFAULT_SYNC_OWNER,
      groupFilter: (config["group-filter"] ?? []).map(parseGroupFilter),
      removeVanished: config["remove-vanished"] ?? false,
      ...(config["transfer-last"] !== undefined && { transferLast: config["transfer-last"] }),
      signal: task.signal,
      log: (level, message) => (level === "info" ? task.log(message) : task.warn(message)),
    });
  } finally {
    await source.close();
  }
  task.log(
    `synced ${stats.snapshots} snapshot(s): ${stats.chunksDownloaded} chunk(s) downloaded (${stats.bytesDownloaded} bytes), ${stats.chunksPresent} already present`,
  );
  if (stats.removedSnapshots + stats.removedGroups + stats.removedNamespaces > 0) {
    task.log(
      `removed vanished: ${stats.removedSnapshots} snapshot(s), ${stats.removedGroups} group(s), ${stats.removedNamespaces} namespace(s)`,
    );
  }
  if (stats.errors.length > 0) {
    throw new JobError(
      "failed",
      `sync failed for ${stats.errors.length} item(s): ${stats.errors[0]}`,
      {
        errors: stats.errors,
      },
    );
  }
  return stats;
}
