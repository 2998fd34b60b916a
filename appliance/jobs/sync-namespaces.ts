import { MAX_NAMESPACE_DEPTH, type Namespace, namespaceToDisplay } from "../datastore/names.js";
import { JobError } from "./errors.js";

/**
 * The effective max-depth of a sync whose written side starts at `base`: an explicit max-depth
 * that would reach below the deepest namespace allowed there is refused.
 */
export function syncDepth(base: Namespace, maxDepth: number | undefined, side: string): number {
  const depth = maxDepth ?? MAX_NAMESPACE_DEPTH;
  if (maxDepth !== undefined && base.length + depth > MAX_NAMESPACE_DEPTH) {
    throw new JobError(
      "bad-config",
      `max-depth ${depth} below ${side} namespace ${namespaceToDisplay(base)} exceeds ${MAX_NAMESPACE_DEPTH} levels`,
      { maxDepth: depth },
    );
  }
  return depth;
}

/** `ns` (below `fromBase`) moved below `toBase`; refused when it would be too deep there. */
export function rebaseNamespace(ns: Namespace, fromBase: Namespace, toBase: Namespace): Namespace {
  const moved = [...toBase, ...ns.slice(fromBase.length)];
  if (moved.length > MAX_NAMESPACE_DEPTH) {
    throw new JobError(
      "bad-config",
      `namespace ${namespaceToDisplay(moved)} would be deeper than ${MAX_NAMESPACE_DEPTH} levels`,
    );
  }
  return moved;
}

/** A failed namespace or group: counted in the stats and logged; the sync goes on with the rest. */
export function recordSyncFailure(
  run: { stats: { errors: string[] }; log(level: "warn", message: string): void },
  verb: string,
  what: string,
  err: unknown,
): void {
  const line = `${what}: ${(err as Error).message}`;
  run.stats.errors.push(line);
  run.log("warn", `${verb} of ${line}`);
}
