/**
 * Watches ZFS pool health: each check compares `zpool list`'s health column with the previous one
 * and notifies on a change to a bad state, and on recovery from one.
 */
import type { Notification, Severity } from "./notification.js";

export interface PoolHealth {
  name: string;
  health: string;
}

export interface PoolHealthChange {
  pool: string;
  /** Undefined when the pool was not seen before (first check, or newly imported). */
  from?: string;
  to: string;
  severity: Severity;
}

/** States worth waking someone for, and how bad each is. */
const BAD_HEALTH: Record<string, Severity> = {
  DEGRADED: "warning",
  FAULTED: "error",
  UNAVAIL: "error",
  SUSPENDED: "error",
};

/**
 * The changes between two `zpool list` results worth a notification: a pool entering a bad state
 * (also one first seen in it), or leaving one (a `notice`). Vanished pools are left out: an export
 * is not a failure.
 */
export function poolHealthChanges(
  previous: readonly PoolHealth[] | undefined,
  current: readonly PoolHealth[],
): PoolHealthChange[] {
  const before = new Map((previous ?? []).map((pool) => [pool.name, pool.health]));
  const changes: PoolHealthChange[] = [];
  for (const pool of current) {
    const from = before.get(pool.name);
    if (from === pool.health) continue;
    const bad = BAD_HEALTH[pool.health];
    if (bad !== undefined) {
      changes.push({
        pool: pool.name,
        ...(from !== undefined && { from }),
        to: pool.health,
        severity: bad,
      });
    } else if (from !== undefined && BAD_HEALTH[from] !== undefined) {
      changes.push({ pool: pool.name, from, to: pool.health, severity: "notice" });
    }
  }
  return changes;
}

export function poolHealthNotification(
  change: PoolHealthChange,
  hostname: string,
  timestamp: number,
): Notification {
  const title = `ZFS pool ${change.pool} is ${change.to} on ${hostname}`;
  const was = change.from === undefined ? "" : ` (was ${change.from})`;
  return {
    severity: change.severity,
    title,
    fields: { type: "pool", hostname, pool: change.pool },
    timestamp,
    body: `The health of ZFS pool ${change.pool} is now ${change.to}${was}.\nSee 'zpool status ${change.pool}' for the devices concerned.\n`,
  };
}

export interface PoolHealthWatcherOptions {
  list: () => Promise<PoolHealth[]>;
  notify: (notification: Notification) => void;
  hostname: string;
  /** Epoch ms. */
  now?: () => number;
}

/** Holds the last seen health of each pool between checks. */
export class PoolHealthWatcher {
  #previous: PoolHealth[] | undefined;

  constructor(private readonly options: PoolHealthWatcherOptions) {}

  /** Lists the pools once and notifies each change; returns the changes. */
  async check(): Promise<PoolHealthChange[]> {
    const current = await this.options.list();
    const changes = poolHealthChanges(this.#previous, current);
    this.#previous = current.map(({ name, health }) => ({ name, health }));
    const timestamp = Math.floor((this.options.now ?? Date.now)() / 1000);
    for (const change of changes) {
      this.options.notify(poolHealthNotification(change, this.options.hostname, timestamp));
    }
    return changes;
  }
}

export const POOL_CHECK_INTERVAL_MS = 5 * 60_000;

/**
 * Checks now and then every `intervalMs` until stopped. A failing `zpool list` (no ZFS on this
 * machine) is reported once until a check succeeds again.
 */
export function watchPoolHealth(
  watcher: PoolHealthWatcher,
  options: { intervalMs?: number; onError: (message: string, err: unknown) => void },
): { stop(): void } {
  let failing = false;
  const check = () =>
    watcher.check().then(
      () => {
        failing = false;
      },
      (err: unknown) => {
        if (!failing) options.onError("cannot check ZFS pool health", err);
        failing = true;
      },
    );
  void check();
  const timer = setInterval(() => void check(), options.intervalMs ?? POOL_CHECK_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
