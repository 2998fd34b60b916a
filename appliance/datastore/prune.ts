/**
 * Which snapshots of one backup group a retention policy keeps, with PBS's exact semantics
 * (pbs-formats.md §9). Pure: no I/O and no clock; the caller deletes what is marked for removal.
 *
 * Time zone: hours, days, ISO weeks, months and years are counted in local time, as PBS counts them
 * in the server's. "Local" is `settings.timeZone` when given (an IANA name such as Europe/Vienna),
 * otherwise the process's own zone (the TZ environment variable), read through Intl.
 */
import { DatastoreError, showValue } from "./errors.js";
import { formatSnapshotTime, validateBackupTime } from "./names.js";

export interface PruneCandidate {
  /** Seconds since the epoch; unique within a group. */
  readonly backupTime: number;
  /** The snapshot has its manifest (index.json.blob). */
  readonly finished: boolean;
  /** The snapshot has its .protected marker. */
  readonly protected: boolean;
}

/** How many to keep of each kind; undefined or 0 means the rule is not used. */
export interface PruneOptions {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
}

/** The rules in the order PBS applies them, with their option key and their API/CLI name. */
export const PRUNE_RULES = [
  { option: "keepLast", name: "keep-last" },
  { option: "keepHourly", name: "keep-hourly" },
  { option: "keepDaily", name: "keep-daily" },
  { option: "keepWeekly", name: "keep-weekly" },
  { option: "keepMonthly", name: "keep-monthly" },
  { option: "keepYearly", name: "keep-yearly" },
] as const satisfies readonly { option: keyof PruneOptions; name: string }[];

export type PruneRule = (typeof PRUNE_RULES)[number]["name"];

export type PruneReason =
  | PruneRule
  | "protected"
  | "newest-incomplete"
  | "remove"
  | "keep-all (no options)";

export interface PruneDecision<T extends PruneCandidate> {
  readonly snapshot: T;
  readonly keep: boolean;
  readonly reason: PruneReason;
}

export interface PruneSettings {
  /** IANA time zone for the buckets; default: the process's local zone. */
  timeZone?: string;
}

function badOption(field: string, value: unknown, rule: string): DatastoreError {
  return new DatastoreError("bad-prune-options", `invalid ${field} ${showValue(value)}: ${rule}`, {
    field,
    value: showValue(value),
  });
}

/** Checks options from outside (API, config): only known keys, each a whole number ≥ 0. */
export function validatePruneOptions(value: unknown): PruneOptions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badOption("prune options", value, "must be an object");
  }
  const options: PruneOptions = {};
  for (const [key, count] of Object.entries(value)) {
    const rule = PRUNE_RULES.find((candidate) => candidate.option === key);
    if (rule === undefined) {
      const known = PRUNE_RULES.map((candidate) => candidate.option).join(", ");
      throw badOption("prune option", key, `is not one of ${known}`);
    }
    if (count === undefined) continue;
    if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
      throw badOption(rule.name, count, "must be a whole number ≥ 0 (0 means not used)");
    }
    options[rule.option] = count;
  }
  return options;
}

/** False when no rule is in use, in which case prune keeps everything. */
export function keepsSomething(options: PruneOptions): boolean {
  return PRUNE_RULES.some((rule) => (options[rule.option] ?? 0) > 0);
}

/** One decision per snapshot, newest first. */
export function pruneSelect<T extends PruneCandidate>(
  snapshots: readonly T[],
  options: PruneOptions,
  settings: PruneSettings = {},
): PruneDecision<T>[] {
  const counts = validatePruneOptions(options);
  const newestFirst = sortNewestFirst(snapshots);
  if (!keepsSomething(counts)) {
    return newestFirst.map((snapshot) =>
      decide(snapshot, snapshot.protected ? "protected" : "keep-all (no options)"),
    );
  }
  const toLocal = localTimeReader(settings.timeZone);
  const entries: Entry<T>[] = newestFirst.map((snapshot) => ({
    snapshot,
    local: toLocal(snapshot.backupTime),
    mark: undefined,
  }));
  markIncomplete(entries);
  for (const rule of PRUNE_RULES) {
    const count = counts[rule.option] ?? 0;
    if (count > 0) markRule(entries, rule.name, count);
  }
  return entries.map(({ snapshot, mark }) =>
    decide(snapshot, snapshot.protected ? "protected" : (mark ?? "remove")),
  );
}

type Mark = PruneRule | "protected" | "newest-incomplete" | "remove";

interface Entry<T extends PruneCandidate> {
  readonly snapshot: T;
  readonly local: LocalTime;
  mark: Mark | undefined;
}

function decide<T extends PruneCandidate>(snapshot: T, reason: PruneReason): PruneDecision<T> {
  return { snapshot, keep: reason !== "remove", reason };
}

function sortNewestFirst<T extends PruneCandidate>(snapshots: readonly T[]): T[] {
  for (const snapshot of snapshots) validateBackupTime(snapshot.backupTime);
  const sorted = [...snapshots].sort((a, b) => b.backupTime - a.backupTime);
  for (let i = 1; i < sorted.length; i++) {
    const time = sorted[i]!.backupTime;
    if (time === sorted[i - 1]!.backupTime) {
      const shown = formatSnapshotTime(time);
      throw new DatastoreError(
        "bad-prune-input",
        `two snapshots share the backup time ${shown}; a group has one snapshot per second`,
        { field: "backupTime", value: shown },
      );
    }
  }
  return sorted;
}

/** Only the newest snapshot may be an unfinished one still worth keeping; older ones failed. */
function markIncomplete(entries: Entry<PruneCandidate>[]): void {
  entries.forEach((entry, index) => {
    if (!entry.snapshot.finished) entry.mark = index === 0 ? "newest-incomplete" : "remove";
  });
}

const RULE_NAMES: ReadonlySet<Mark> = new Set(PRUNE_RULES.map((rule) => rule.name));

/**
 * One rule, as PBS's mark_selections: buckets holding a snapshot an earlier rule kept are covered
 * and cost nothing; any snapshot already marked (even "remove") is invisible to later rules.
 */
function markRule(entries: Entry<PruneCandidate>[], rule: PruneRule, count: number): void {
  const keyOf = BUCKET_KEY[rule];
  const covered = new Set<string>();
  for (const entry of entries) {
    if (entry.mark !== undefined && RULE_NAMES.has(entry.mark)) covered.add(keyOf(entry.local));
  }
  const taken = new Set<string>();
  for (const entry of entries) {
    if (entry.mark !== undefined) continue;
    if (entry.snapshot.protected) {
      entry.mark = "protected";
      continue;
    }
    const key = keyOf(entry.local);
    if (covered.has(key)) continue;
    if (taken.has(key)) {
      entry.mark = "remove";
      continue;
    }
    if (taken.size >= count) return;
    taken.add(key);
    entry.mark = rule;
  }
}

// ---- local time and buckets ----

interface LocalTime {
  readonly epoch: number;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
}

const pad = (value: number): string => String(value).padStart(2, "0");

/** The bucket a snapshot falls in for each rule, as PBS's strftime formats in local time. */
const BUCKET_KEY: Record<PruneRule, (time: LocalTime) => string> = {
  "keep-last": (time) => String(time.epoch),
  "keep-hourly": (time) => `${time.year}/${pad(time.month)}/${pad(time.day)}/${pad(time.hour)}`,
  "keep-daily": (time) => `${time.year}/${pad(time.month)}/${pad(time.day)}`,
  "keep-weekly": (time) => {
    const { weekYear, week } = isoWeek(time.year, time.month, time.day);
    return `${weekYear}/${pad(week)}`;
  },
  "keep-monthly": (time) => `${time.year}/${pad(time.month)}`,
  "keep-yearly": (time) => String(time.year),
};

const DAY_MS = 86_400_000;

/** ISO 8601 week (`%G/%V`): weeks start on Monday and belong to the year of their Thursday. */
function isoWeek(year: number, month: number, day: number): { weekYear: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const mondayBased = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = date + (3 - mondayBased) * DAY_MS;
  const weekYear = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(weekYear, 0, 1)) / DAY_MS / 7) + 1;
  return { weekYear, week };
}

function localTimeReader(timeZone: string | undefined): (epoch: number) => LocalTime {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      calendar: "gregory",
      numberingSystem: "latn",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      hourCycle: "h23",
    });
  } catch (cause) {
    throw new DatastoreError(
      "bad-prune-options",
      `invalid time zone ${showValue(timeZone)}: must be an IANA name such as Europe/Vienna`,
      { field: "timeZone", value: showValue(timeZone) },
      undefined,
      { cause },
    );
  }
  return (epoch) => {
    const fields = { year: 0, month: 0, day: 0, hour: 0 };
    for (const part of format.formatToParts(epoch * 1000)) {
      if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
    }
    return { epoch, ...fields };
  };
}
