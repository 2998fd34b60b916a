import { parseNamespace } from "../datastore/names.js";
import { JobError } from "./errors.js";
import { parseGroupFilter } from "./group-filter.js";
import { configuredBucket, rateLimitedTarget } from "./rate-limit.js";
import type { JobTask } from "./scheduler.js";
import type { SyncJobConfig } from "./sync-config.js";
import type { SyncJobEnvironment } from "./sync-job.js";
import { type PushStats, pushSync } from "./sync-push.js";
import { remotePushTarget } from "./sync-push-target.js";

/** A push sync job's task: the job's store and ns are the source, the remote's the target. */
export async function runPushJob(
  task: JobTask,
  config: SyncJobConfig,
  env: SyncJobEnvironment,
): Promise<PushStats> {
  if (config.remote === undefined) {
    throw new JobError("bad-config", "a push sync job needs a remote to push to");
  }
  const source = await env.openStore(config.store);
  const remote = await remotePushTarget(await env.remote(config.remote), config["remote-store"]);
  const bucket = configuredBucket(config["rate-out"], config["burst-out"]);
  const target = bucket === undefined ? remote : rateLimitedTarget(remote, bucket, task.signal);
  task.log(`push from datastore ${config.store} to ${target.description}`);
  const stats = await pushSync(source, target, {
    ns: parseNamespace(config.ns ?? ""),
    remoteNs: parseNamespace(config["remote-ns"] ?? ""),
    ...(config["max-depth"] !== undefined && { maxDepth: config["max-depth"] }),
    groupFilter: (config["group-filter"] ?? []).map(parseGroupFilter),
    removeVanished: config["remove-vanished"] ?? false,
    ...(config["transfer-last"] !== undefined && { transferLast: config["transfer-last"] }),
    signal: task.signal,
    log: (level, message) => (level === "info" ? task.log(message) : task.warn(message)),
  });
  task.log(
    `pushed ${stats.snapshots} snapshot(s): ${stats.chunksUploaded} chunk(s) uploaded (${stats.bytesUploaded} bytes), ${stats.chunksKnown} known to the remote`,
  );
  if (stats.removedSnapshots + stats.removedGroups + stats.removedNamespaces > 0) {
    task.log(
      `removed vanished on the remote: ${stats.removedSnapshots} snapshot(s), ${stats.removedGroups} group(s), ${stats.removedNamespaces} namespace(s)`,
    );
  }
  if (stats.errors.length > 0) {
    throw new JobError(
      "failed",
      `push failed for ${stats.errors.length} item(s): ${stats.errors[0]}`,
      { errors: stats.errors },
    );
  }
  return stats;
}
