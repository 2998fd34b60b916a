import type { Datastore } from "../datastore/datastore.js";
import { namespaceToDisplay, parseNamespace } from "../datastore/names.js";
import { keepsSomething, PRUNE_RULES, type PruneOptions } from "../datastore/prune.js";
import type { PruneJobConfig } from "./job-config.js";
import type { JobTask } from "./scheduler.js";

/** The datastore's PruneOptions from a job's keep-* fields. */
export function pruneOptionsOf(config: PruneJobConfig): PruneOptions {
  const options: PruneOptions = {};
  for (const rule of PRUNE_RULES) {
    const count = config[rule.name];
    if (count !== undefined) options[rule.option] = count;
  }
  return options;
}

/** `--keep-last 3 --keep-daily 7`, as PBS logs the retention options. */
export function describeRetention(config: PruneJobConfig): string {
  return PRUNE_RULES.filter((rule) => config[rule.name] !== undefined)
    .map((rule) => `--${rule.name} ${config[rule.name]}`)
    .join(" ");
}

/**
 * A prune job's task: every group below the job's namespace (to max-depth) pruned by its keep-*
 * options. A group that fails is reported and the rest still pruned; the task then fails.
 */
export async function runPruneJob(
  task: JobTask,
  store: Datastore,
  config: PruneJobConfig,
  timeZone?: string,
): Promise<void> {
  const options = pruneOptionsOf(config);
  task.log(`retention options: ${describeRetention(config)}`);
  if (!keepsSomething(options)) {
    task.log("No prune selection - keeping all files.");
    return;
  }
  const log = (level: "info" | "warn", message: string) =>
    level === "info" ? task.log(message) : task.warn(message);
  const failed: string[] = [];
  for (const ns of await store.listNamespaces(
    parseNamespace(config.ns ?? ""),
    config["max-depth"],
  )) {
    if (ns.length > 0) task.log(`namespace ${namespaceToDisplay(ns)}`);
    for (const group of await store.listGroupNames(ns)) {
      task.signal.throwIfAborted();
      try {
        await store.prune(ns, group.type, group.id, options, {
          onLog: log,
          ...(timeZone !== undefined && { timeZone }),
        });
      } catch (err) {
        const name = `${group.type}/${group.id}`;
        task.warn(`pruning group ${name} failed: ${(err as Error).message}`);
        failed.push(name);
      }
    }
  }
  if (failed.length > 0) throw new Error(`prune failed for ${failed.length} group(s)`);
}
