import { access } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import type { FileOwner } from "./file-owner.js";
import { processAlive, processStartTime } from "./process-start.js";
import { TaskError } from "./task-errors.js";
import { type FinishedTask, TaskIndex } from "./task-index.js";
import { readTaskLog, type TaskLogLine, TaskLogWriter } from "./task-log.js";
import { exitStatus, oneLine, stateFilterName, type TaskState } from "./task-state.js";
import { formatUpid, parseUpid, type Upid } from "./upid.js";

/** What a task's work function gets: its id, a stop signal and its log. */
export interface TaskContext {
  readonly upid: string;
  readonly signal: AbortSignal;
  log(message: string): void;
  /** Logs a warning; a task that warned ends as `WARNINGS: n` instead of `OK`. */
  warn(message: string): void;
}

export interface SpawnOptions {
  /** PBS worker type, e.g. `garbage_collection`, `verify`, `prune`. */
  type: string;
  /** PBS worker id, e.g. the datastore name. */
  id?: string;
  /** Who started it. */
  authId: string;
  run(task: TaskContext): Promise<void>;
}

/** One task in PBS's list shape. */
export interface TaskListItem {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  worker_type: string;
  worker_id?: string;
  user: string;
  endtime?: number;
  status?: string;
}

/** One task in PBS's status shape. */
export interface TaskStatus {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id?: string;
  user: string;
  tokenid?: string;
  status: "running" | "stopped";
  exitstatus?: string;
}

export interface TaskFilter {
  running?: boolean;
  errors?: boolean;
  userfilter?: string;
  typefilter?: string;
  statusfilter?: ("ok" | "warning" | "error" | "unknown")[];
  since?: number;
  until?: number;
}

/** A task of this process that has ended, as task-end listeners are told of it. */
export interface EndedTask {
  upid: string;
  /** PBS worker type and id, e.g. `garbage_collection`, `store1`. */
  type: string;
  id?: string;
  exitstatus: string;
}

interface RunningTask {
  upid: Upid;
  controller: AbortController;
  done: Promise<TaskState>;
}

interface KnownTask {
  text: string;
  upid: Upid;
  finished?: FinishedTask;
}

/** A host name as UPIDs allow it: letters, digits and inner dashes. */
export function nodeName(name = hostname()): string {
  const short = name
    .split(".", 1)[0]!
    .replace(/[^A-Za-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "");
  return short === "" ? "localhost" : short;
}

/**
 * Worker tasks: background operations with a PBS UPID, a log file under the state directory,
 * a status that survives restarts, and a stop signal.
 */
export class TaskManager {
  readonly node: string;
  readonly #pid = process.pid;
  readonly #pstart = processStartTime();
  readonly #index: TaskIndex;
  readonly #running = new Map<string, RunningTask>();
  readonly #endListeners = new Set<(task: EndedTask) => void>();
  #nextTaskId = 0;

  constructor(
    readonly dir: string,
    private readonly logger: Logger,
    node = nodeName(),
    /** Owner of the files it writes, when it is not this process's user. */
    private readonly owner?: FileOwner,
  ) {
    this.node = node;
    this.#index = new TaskIndex(dir, owner);
  }

  /** Records tasks left active by processes that are gone as ended in an unknown state. */
  async recover(): Promise<void> {
    const stale: FinishedTask[] = [];
    for (const text of await this.#index.readActive()) {
      const upid = tryParse(text);
      if (upid && upid.pid !== this.#pid && processAlive(upid.pid, upid.pstart)) continue;
      if (upid && upid.pid === this.#pid && this.#running.has(text)) continue;
      stale.push({
        upid: text,
        endTime: Math.floor(Date.now() / 1000),
        state: { kind: "unknown" },
      });
    }
    await this.#index.finish(stale);
  }

  logPath(upid: Upid, text: string): string {
    const bucket = (upid.taskId & 0xff).toString(16).toUpperCase().padStart(2, "0");
    return join(this.dir, bucket, text);
  }

  /** Calls `listener` whenever a task of this process has ended and its end is recorded. */
  onTaskEnd(listener: (task: EndedTask) => void): void {
    this.#endListeners.add(listener);
  }

  /** Starts a task and returns its UPID once its log and index entry exist. */
  async spawn(options: SpawnOptions): Promise<string> {
    const upid: Upid = {
      node: this.node,
      pid: this.#pid,
      pstart: this.#pstart,
      taskId: this.#nextTaskId++,
      startTime: Math.floor(Date.now() / 1000),
      workerType: options.type,
      ...(options.id !== undefined && { workerId: options.id }),
      authId: options.authId,
    };
    const text = formatUpid(upid);
    const log = await TaskLogWriter.open(this.logPath(upid, text), this.owner);
    await this.#index.addActive(text);
    const controller = new AbortController();
    const done = this.#run(text, options, log, controller.signal);
    this.#running.set(text, { upid, controller, done });
    return text;
  }

  async #run(
    text: string,
    options: SpawnOptions,
    log: TaskLogWriter,
    signal: AbortSignal,
  ): Promise<TaskState> {
    let warnings = 0;
    const context: TaskContext = {
      upid: text,
      signal,
      log: (message) => log.write(message),
      warn: (message) => {
        warnings++;
        log.write(`WARN: ${message}`);
      },
    };
    let state: TaskState;
    try {
      await Promise.resolve().then(() => options.run(context));
      if (signal.aborted) throw signal.reason;
      state = warnings > 0 ? { kind: "warnings", count: warnings } : { kind: "ok" };
    } catch (err) {
      const message = signal.aborted
        ? "task aborted"
        : oneLine((err as Error)?.message ?? String(err));
      state = { kind: "error", message };
    }
    const end =
      state.kind === "error" ? `TASK ERROR: ${state.message}` : `TASK ${exitStatus(state)}`;
    try {
      log.write(end);
      await log.close();
      await this.#index.finish([{ upid: text, endTime: Math.floor(Date.now() / 1000), state }]);
    } catch (err) {
      this.logger.error({ err, upid: text }, "cannot record the end of a task");
    } finally {
      this.#running.delete(text);
    }
    this.logger.info({ upid: text, status: exitStatus(state) }, "task finished");
    this.#tellEnd({
      upid: text,
      type: options.type,
      ...(options.id !== undefined && { id: options.id }),
      exitstatus: exitStatus(state),
    });
    return state;
  }

  #tellEnd(task: EndedTask): void {
    for (const listener of this.#endListeners) {
      try {
        listener(task);
      } catch (err) {
        // a listener's failure is its own; the task has ended either way
        this.logger.error({ err, upid: task.upid }, "a task-end listener failed");
      }
    }
  }

  /** Asks a running task of this process to stop. */
  abort(text: string): void {
    const upid = parseUpid(text);
    const running = this.#running.get(text);
    if (running) {
      running.controller.abort(new TaskError("aborted", "task aborted"));
      return;
    }
    if (upid.pid !== this.#pid && processAlive(upid.pid, upid.pstart)) {
      throw new TaskError("not-stoppable", `task ${text} belongs to process ${upid.pid}`);
    }
    throw new TaskError("not-found", `task ${text} is not running`);
  }

  /** Resolves when the task has ended and its end is recorded. */
  async wait(text: string): Promise<TaskStatus> {
    await this.#running.get(text)?.done;
    return this.status(text);
  }

  /** Aborts every task of this process and waits (up to `timeoutMs`) for them to end. */
  async shutdown(timeoutMs: number): Promise<void> {
    const all = [...this.#running.values()];
    for (const task of all) task.controller.abort(new TaskError("aborted", "server shutting down"));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(all.map((task) => task.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  async status(text: string): Promise<TaskStatus> {
    const upid = parseUpid(text);
    const base = {
      upid: text,
      node: upid.node,
      pid: upid.pid,
      pstart: upid.pstart,
      starttime: upid.startTime,
      type: upid.workerType,
      ...(upid.workerId !== undefined && { id: upid.workerId }),
      user: upid.authId.split("!", 1)[0]!,
      ...(upid.authId.includes("!") && { tokenid: upid.authId.split("!")[1] }),
    };
    const known = (await this.#known()).find((task) => task.text === text);
    if (known === undefined) {
      if (!(await fileExists(this.logPath(upid, text)))) {
        throw new TaskError("not-found", `no task ${text}`);
      }
      return { ...base, status: "stopped", exitstatus: "unknown" };
    }
    if (known.finished === undefined) return { ...base, status: "running" };
    return { ...base, status: "stopped", exitstatus: exitStatus(known.finished.state) };
  }

  /** Tasks newest first, filtered; `total` counts all that pass the filter. */
  async list(
    filter: TaskFilter,
    start: number,
    limit: number,
  ): Promise<{ items: TaskListItem[]; total: number }> {
    const matching = (await this.#known())
      .filter((task) => passes(task, filter))
      .sort((a, b) => b.upid.startTime - a.upid.startTime || b.upid.taskId - a.upid.taskId);
    const page = limit === 0 ? matching.slice(start) : matching.slice(start, start + limit);
    return { items: page.map(listItem), total: matching.length };
  }

  async readLog(
    text: string,
    start: number,
    limit: number,
  ): Promise<{ lines: TaskLogLine[]; total: number }> {
    const upid = parseUpid(text);
    try {
      return await readTaskLog(this.logPath(upid, text), start, limit);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new TaskError("not-found", `no log for task ${text}`);
      }
      throw err;
    }
  }

  /** Running tasks (of any live process) and finished ones, each once. */
  async #known(): Promise<KnownTask[]> {
    const known = new Map<string, KnownTask>();
    for (const text of await this.#index.readActive()) {
      const upid = tryParse(text);
      if (!upid) continue;
      const alive =
        upid.pid === this.#pid ? this.#running.has(text) : processAlive(upid.pid, upid.pstart);
      if (alive) known.set(text, { text, upid });
    }
    for (const finished of await this.#index.readArchive()) {
      const upid = tryParse(finished.upid);
      if (upid) known.set(finished.upid, { text: finished.upid, upid, finished });
    }
    return [...known.values()];
  }
}

function tryParse(text: string): Upid | undefined {
  try {
    return parseUpid(text);
  } catch {
    return undefined;
  }
}

function passes(task: KnownTask, filter: TaskFilter): boolean {
  const state = task.finished?.state;
  if (filter.running && state !== undefined) return false;
  if (filter.errors && (state === undefined || state.kind === "ok")) return false;
  if (filter.since !== undefined && task.upid.startTime < filter.since) return false;
  if (filter.until !== undefined && task.upid.startTime > filter.until) return false;
  if (filter.typefilter !== undefined && !task.upid.workerType.includes(filter.typefilter)) {
    return false;
  }
  if (filter.userfilter !== undefined && !task.upid.authId.includes(filter.userfilter))
    return false;
  if (filter.statusfilter !== undefined && filter.statusfilter.length > 0) {
    if (state === undefined || !filter.statusfilter.includes(stateFilterName(state))) return false;
  }
  return true;
}

function listItem(task: KnownTask): TaskListItem {
  const { upid, finished } = task;
  return {
    upid: task.text,
    node: upid.node,
    pid: upid.pid,
    pstart: upid.pstart,
    starttime: upid.startTime,
    worker_type: upid.workerType,
    ...(upid.workerId !== undefined && { worker_id: upid.workerId }),
    user: upid.authId,
    ...(finished && { endtime: finished.endTime, status: exitStatus(finished.state) }),
  };
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
