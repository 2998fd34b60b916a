import { type PruneOptions, type PruneReason, pruneSelect } from "../datastore/prune.js";
import type { RetentionPlan } from "./plan.js";

export interface PreviewSeries {
  /** Backups in the simulated history. */
  total: number;
  kept: number;
  /** How many each rule kept (only rules that kept something). */
  byRule: Partial<Record<PruneReason, number>>;
  /** Age in days of the oldest backup kept. */
  oldestDays: number;
}

export interface RetentionPreview {
  daily: PreviewSeries;
  hourly: PreviewSeries;
}

export const PREVIEW_DAYS = 90;
const HOUR = 3600;
const DAY = 24 * HOUR;

function options(retention: RetentionPlan): PruneOptions {
  return {
    keepLast: retention["keep-last"],
    keepHourly: retention["keep-hourly"],
    keepDaily: retention["keep-daily"],
    keepWeekly: retention["keep-weekly"],
    keepMonthly: retention["keep-monthly"],
    keepYearly: retention["keep-yearly"],
  };
}

function series(
  retention: RetentionPlan,
  now: number,
  step: number,
  timeZone: string | undefined,
): PreviewSeries {
  const count = (PREVIEW_DAYS * DAY) / step;
  // The newest backup an hour ago on the hour, like a scheduled job's.
  const newest = Math.floor(now / HOUR) * HOUR - HOUR;
  const snapshots = Array.from({ length: count }, (_, i) => ({
    backupTime: newest - i * step,
    finished: true,
    protected: false,
  }));
  const decisions = pruneSelect(snapshots, options(retention), timeZone ? { timeZone } : {});
  const byRule: Partial<Record<PruneReason, number>> = {};
  let oldest = newest;
  for (const decision of decisions) {
    if (!decision.keep) continue;
    byRule[decision.reason] = (byRule[decision.reason] ?? 0) + 1;
    oldest = Math.min(oldest, decision.snapshot.backupTime);
  }
  const kept = decisions.filter((decision) => decision.keep).length;
  return { total: count, kept, byRule, oldestDays: Math.round((now - oldest) / DAY) };
}

/**
 * What the policy would keep of a 90-day history of daily backups and of hourly ones, computed by
 * the same prune selection the server runs. `now` in seconds since the epoch.
 */
export function retentionPreview(
  retention: RetentionPlan,
  now: number,
  timeZone?: string,
): RetentionPreview {
  return {
    daily: series(retention, now, DAY, timeZone),
    hourly: series(retention, now, HOUR, timeZone),
  };
}
