import type { Datastore } from "../datastore/datastore.js";
import { parseNamespace } from "../datastore/names.js";
import { Verifier, verifyDatastore } from "../datastore/verify.js";
import type { VerifyJobConfig } from "./job-config.js";
import type { JobTask } from "./scheduler.js";

/**
 * A verify job's task: the snapshots below the job's namespace that its re-verify filter selects
 * (ignore-verified defaults to true, as in PBS), failed ones listed and the task failed.
 */
export async function runVerifyJob(
  task: JobTask,
  store: Datastore,
  config: VerifyJobConfig,
  nowSeconds?: number,
): Promise<void> {
  const verifier = new Verifier({
    upid: task.upid,
    onLog: (level, message) => (level === "info" ? task.log(message) : task.warn(message)),
  });
  const run = await verifyDatastore(store, {
    ns: parseNamespace(config.ns ?? ""),
    verifier,
    signal: task.signal,
    filters: {
      ignoreVerified: config["ignore-verified"] ?? true,
      ...(config["outdated-after"] !== undefined && {
        outdatedAfterDays: config["outdated-after"],
      }),
    },
    ...(config["max-depth"] !== undefined && { maxDepth: config["max-depth"] }),
    ...(nowSeconds !== undefined && { now: nowSeconds }),
  });
  task.log(`verified ${run.results.length} snapshot(s), skipped ${run.filtered} by the filter`);
  if (run.failed.length === 0) return;
  task.log("Failed to verify the following snapshots:");
  for (const snapshot of run.failed) task.log(`\t${snapshot}`);
  throw new Error("verification failed - please check the log for details");
}
