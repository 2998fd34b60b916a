import { setTimeout as sleep } from "node:timers/promises";
import { CairnError } from "../errors.js";
import { apiPath, type LocalApi } from "./local-api.js";
import { type OutputFormat, printJson } from "./output.js";

/** A task's status as `GET /nodes/{node}/tasks/{upid}/status` reports it. */
export interface TaskStatus {
  upid: string;
  status: "running" | "stopped";
  exitstatus?: string;
  type: string;
  id?: string;
  user: string;
  starttime: number;
}

interface TaskLogLine {
  n: number;
  t: string;
}

const POLL_MS = 250;

export function taskPath(upid: string, what?: "log" | "status"): string {
  const base = apiPath`/nodes/localhost/tasks/${upid}`;
  return what === undefined ? base : `${base}/${what}`;
}

/** Writes a task's log lines as they come until the task ends, then returns its status. */
export async function followTask(
  api: LocalApi,
  upid: string,
  write: (line: string) => void,
): Promise<TaskStatus> {
  let next = 0;
  const readMore = async () => {
    const log = await api.get<TaskLogLine[]>(taskPath(upid, "log"), { start: next, limit: 0 });
    for (const line of log.data) write(line.t);
    next += log.data.length;
    return log.attributes.active === true;
  };
  while (await readMore()) await sleep(POLL_MS);
  // the server reads the lines before it looks at the status: the last ones may come after
  await readMore();
  return (await api.get<TaskStatus>(taskPath(upid, "status"))).data;
}

/** OK and WARNINGS count as success, as in PBS; anything else is the task's error message. */
export function taskSucceeded(status: TaskStatus): boolean {
  const exit = status.exitstatus ?? "";
  return exit === "OK" || exit.startsWith("WARNINGS:");
}

export function writeLine(stream: NodeJS.WritableStream): (line: string) => void {
  return (line) => stream.write(`${line}\n`);
}

/** Follows a task to its end, writing its log (to stdout by default); throws when it failed. */
export async function waitForTask(
  api: LocalApi,
  upid: string,
  write = writeLine(process.stdout),
): Promise<TaskStatus> {
  const status = await followTask(api, upid, write);
  if (!taskSucceeded(status)) {
    throw new CairnError(
      "CAIRN_E_TASK_FAILED",
      `task failed: ${status.exitstatus ?? "unknown"} (${upid})`,
      500,
      { upid, exitstatus: status.exitstatus },
    );
  }
  return status;
}

/**
 * After starting a task: prints its UPID, and with `wait` follows its log to the end (on stderr
 * when the output is JSON, so that stdout stays parseable). Throws when the task failed.
 */
export async function reportStartedTask(
  api: LocalApi,
  upid: string,
  options: { wait?: boolean; outputFormat: OutputFormat },
): Promise<TaskStatus | undefined> {
  const format = options.outputFormat;
  if (!options.wait) {
    if (format === "text") process.stdout.write(`${upid}\n`);
    else printJson(upid, format);
    return undefined;
  }
  const progress = writeLine(format === "text" ? process.stdout : process.stderr);
  progress(upid);
  return waitForTask(api, upid, progress);
}
