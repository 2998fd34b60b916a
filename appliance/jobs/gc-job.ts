import type { Datastore } from "../datastore/datastore.js";
import { garbageCollect } from "../datastore/gc.js";
import type { JobTask } from "./scheduler.js";

export interface GcJobOptions {
  /** The datastore's `gc-atime-cutoff` tuning, minutes. */
  atimeCutoffMinutes?: number;
  cacheCapacity?: number;
  /** The scheduler's clock, epoch ms. */
  now?: () => number;
}

/** A scheduled garbage collection: the same run as `POST /admin/datastore/{store}/gc`. */
export async function runGcJob(
  task: JobTask,
  store: Datastore,
  options: GcJobOptions = {},
): Promise<void> {
  task.log(`starting garbage collection on store ${store.name ?? store.root}`);
  await garbageCollect(store.chunks, {
    upid: task.upid,
    signal: task.signal,
    onLog: (level, message) => (level === "info" ? task.log(message) : task.warn(message)),
    ...(options.atimeCutoffMinutes !== undefined && {
      atimeCutoffMinutes: options.atimeCutoffMinutes,
    }),
    ...(options.cacheCapacity !== undefined && { cacheCapacity: options.cacheCapacity }),
    ...(options.now !== undefined && { now: options.now }),
  });
}
