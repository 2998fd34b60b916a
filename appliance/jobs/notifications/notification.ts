/**
 * A notification: what happened, how bad it is, the fields matchers select on, and a plain-text
 * body. Built from facts only (job ids, stores, task logs, pool states), never from target
 * configuration, so no secret can end up in one.
 */

/** PBS's severities, least to most severe. */
export const SEVERITIES = ["info", "notice", "warning", "error"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Notification {
  severity: Severity;
  title: string;
  /** What matchers' match-field looks at: `type`, `hostname`, `datastore`, `job-id`, `pool`. */
  fields: Record<string, string>;
  /** Epoch seconds. */
  timestamp: number;
  /** The message as a mail body shows it, the log excerpt included. */
  body: string;
  /** The task the notification is about. */
  upid?: string;
  /** The task's exit status (`OK`, `WARNINGS: 2`, the error message). */
  result?: string;
  /** The last lines of the task log. */
  log?: string[];
  /** Warning lines of the task log (corrupt chunks, failed groups), the first ones. */
  problems?: string[];
}

/** Job kinds as notifications name them in `fields.type` (PBS's `type` field values). */
const JOB_TYPE_TITLE: Record<string, string> = {
  prune: "Prune job",
  verify: "Verify job",
  gc: "Garbage collection",
  sync: "Sync job",
};

/** Runs started by hand, named for what they do rather than for a job. */
const MANUAL_TITLE: Record<string, string> = { verify: "Verification" };

export const LOG_EXCERPT_LINES = 30;
export const PROBLEM_LINES = 20;

export interface JobRun {
  /** `prune`, `verify`, `gc`, `sync`. */
  kind: string;
  /** The job's id; for a run started by hand, what it worked on (a group, a snapshot, the store). */
  id: string;
  store?: string;
  /** Started through the API, not from a job's configuration: there is no job id. */
  manual?: boolean;
  upid: string;
  exitstatus: string;
  /** The whole task log, one message a line. */
  log: readonly string[];
  hostname: string;
  timestamp: number;
}

/** OK → info, WARNINGS → warning, anything else (an error message, `unknown`) → error. */
export function severityOfExit(exitstatus: string): Severity {
  if (exitstatus === "OK") return "info";
  if (exitstatus.startsWith("WARNINGS")) return "warning";
  return "error";
}

function outcome(severity: Severity): string {
  return severity === "info" ? "succeeded" : severity === "warning" ? "had warnings" : "failed";
}

/** The notification of a finished job: its identity, result and the end of its task log. */
export function jobNotification(run: JobRun): Notification {
  const severity = severityOfExit(run.exitstatus);
  const title = `${subjectOf(run)} ${outcome(severity)}`;
  const log = run.log.slice(-LOG_EXCERPT_LINES);
  // task log lines may carry their time stamp before the WARN: mark
  const problems = run.log.filter((line) => /(?:^|: )WARN: /.test(line)).slice(0, PROBLEM_LINES);
  const body = [
    `${title}.`,
    "",
    run.manual ? `Started by hand: ${run.kind} ${run.id}` : `Job: ${run.kind} ${run.id}`,
    ...(run.store !== undefined ? [`Datastore: ${run.store}`] : []),
    `Result: ${run.exitstatus}`,
    `Task: ${run.upid}`,
    ...(problems.length > 0 ? ["", "Problems:", ...problems.map((line) => `  ${line}`)] : []),
    "",
    `Task log (last ${log.length} lines):`,
    ...log.map((line) => `  ${line}`),
    "",
  ].join("\n");
  return {
    severity,
    title,
    fields: {
      type: run.kind,
      hostname: run.hostname,
      ...(!run.manual && { "job-id": run.id }),
      ...(run.store !== undefined && { datastore: run.store }),
    },
    timestamp: run.timestamp,
    body,
    upid: run.upid,
    result: run.exitstatus,
    log,
    problems,
  };
}

function subjectOf(run: JobRun): string {
  if (run.kind === "gc") return `${JOB_TYPE_TITLE.gc} of datastore ${run.id}`;
  if (run.manual) {
    const what = MANUAL_TITLE[run.kind] ?? `Task ${run.kind}`;
    return run.id === run.store
      ? `${what} of datastore ${run.id}`
      : `${what} of ${run.id}${onStore(run)}`;
  }
  return `${JOB_TYPE_TITLE[run.kind] ?? `Job ${run.kind}`} '${run.id}'${onStore(run)}`;
}

function onStore(run: JobRun): string {
  return run.store === undefined ? "" : ` on datastore ${run.store}`;
}

/** What `…/targets/{name}/test` sends. */
export function testNotification(target: string, hostname: string, timestamp: number) {
  return {
    severity: "info",
    title: `Test notification from ${hostname}`,
    fields: { type: "system", hostname },
    timestamp,
    body: `This is a test of the notification target '${target}'.\n`,
  } satisfies Notification;
}
