import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../datastore/atomic-file.js";
import { LockDirectory } from "../../datastore/locks.js";
import { type FileOwner, giveTo } from "./file-owner.js";
import { exitStatus, oneLine, parseExitStatus, type TaskState } from "./task-state.js";

export interface FinishedTask {
  upid: string;
  /** Unix epoch seconds. */
  endTime: number;
  state: TaskState;
}

const ACTIVE_FILE = "active";
const ARCHIVE_FILE = "archive";
const LOCK_TIMEOUT_MS = 10_000;
const INDEX_LOCK = "task index";

/**
 * Which tasks exist, shared by every process using the state directory (the daemon and
 * cairn-manager): `active` lists the UPIDs of running tasks, `archive` one line per finished
 * task, `<upid> <end HEX8> <exit status>`. Changes happen under a flock.
 */
export class TaskIndex {
  readonly #locks: LockDirectory;

  constructor(
    readonly dir: string,
    private readonly owner?: FileOwner,
  ) {
    this.#locks = new LockDirectory(join(dir, ".locks"));
  }

  async #locked<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    const lock = await this.#locks.acquire(INDEX_LOCK, "exclusive", {
      timeoutMs: LOCK_TIMEOUT_MS,
      purpose: "update the task index",
    });
    try {
      const result = await work();
      await giveTo(this.owner, [
        this.dir,
        this.#locks.dir,
        this.#locks.pathOf(INDEX_LOCK),
        join(this.dir, ACTIVE_FILE),
        join(this.dir, ARCHIVE_FILE),
      ]);
      return result;
    } finally {
      lock.release();
    }
  }

  async readActive(): Promise<string[]> {
    return readLines(join(this.dir, ACTIVE_FILE));
  }

  async readArchive(): Promise<FinishedTask[]> {
    const finished: FinishedTask[] = [];
    for (const line of await readLines(join(this.dir, ARCHIVE_FILE))) {
      const match = /^(\S+) ([0-9A-Fa-f]{8}) (.*)$/.exec(line);
      if (!match) continue; // a torn line from a crash mid-append
      finished.push({
        upid: match[1]!,
        endTime: Number.parseInt(match[2]!, 16),
        state: parseExitStatus(match[3]!),
      });
    }
    return finished;
  }

  async addActive(upid: string): Promise<void> {
    await this.#locked(async () => {
      const active = await this.readActive();
      await this.#writeActive([...active, upid]);
    });
  }

  /** Moves tasks from `active` to `archive`. */
  async finish(tasks: readonly FinishedTask[]): Promise<void> {
    if (tasks.length === 0) return;
    await this.#locked(async () => {
      const lines = tasks.map(
        (task) =>
          `${task.upid} ${task.endTime.toString(16).toUpperCase().padStart(8, "0")} ${oneLine(exitStatus(task.state))}\n`,
      );
      await appendFile(join(this.dir, ARCHIVE_FILE), lines.join(""));
      const done = new Set(tasks.map((task) => task.upid));
      const active = await this.readActive();
      await this.#writeActive(active.filter((upid) => !done.has(upid)));
    });
  }

  async #writeActive(upids: string[]): Promise<void> {
    await writeFileAtomic(join(this.dir, ACTIVE_FILE), upids.map((upid) => `${upid}\n`).join(""), {
      fsync: false,
    });
  }
}

async function readLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, "utf8")).split("\n").filter((line) => line !== "");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
