import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import fsExt from "fs-ext";
import { DatastoreError } from "./errors.js";

export const WRITERS_DIR = ".writers";

/** One running writer's entry; `release()` is idempotent, and the kernel drops the lock if the process dies. */
export class RegisteredWriter {
  #fd: number | undefined;

  constructor(
    fd: number,
    readonly path: string,
    readonly startTime: number,
  ) {
    this.#fd = fd;
  }

  get active(): boolean {
    return this.#fd !== undefined;
  }

  release(): void {
    if (this.#fd === undefined) return;
    unlinkSync(this.path); // while still locked, so no scanner mistakes it for a stale entry
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/**
 * The backup writers running on a datastore, across processes: `.writers/<pid>-<random>` holds a
 * writer's start time (epoch ms) and stays exclusively flocked while it runs. GC asks for the
 * oldest start time so that its sweep cutoff spares every chunk a running writer has touched.
 */
export class WriterRegistry {
  readonly dir: string;

  constructor(readonly root: string) {
    this.dir = join(root, WRITERS_DIR);
  }

  /** Registers a writer before it inserts or references its first chunk. */
  register(startTime: number = Date.now()): RegisteredWriter {
    mkdirSync(this.dir, { recursive: true });
    const name = `${process.pid}-${randomBytes(8).toString("hex")}`;
    const path = join(this.dir, name);
    const temp = `${path}.tmp_${randomBytes(6).toString("hex")}`;
    const fd = openSync(temp, "wx", 0o644);
    try {
      fsExt.flockSync(fd, "exnb");
      writeSync(fd, `${startTime}\n`);
      renameSync(temp, path); // appears under its real name only once locked and complete
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(temp);
      } catch {}
      throw err;
    }
    return new RegisteredWriter(fd, path, startTime);
  }

  /**
   * The start time of the oldest live writer, or undefined when none runs. Entries whose lock can
   * be taken belong to processes that died: they are deleted.
   */
  oldestActive(): number | undefined {
    let oldest: number | undefined;
    for (const name of listEntries(this.dir)) {
      if (name.includes(".tmp_")) continue;
      const start = this.#liveStartTime(join(this.dir, name));
      if (start !== undefined && (oldest === undefined || start < oldest)) oldest = start;
    }
    return oldest;
  }

  #liveStartTime(path: string): number | undefined {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined; // released meanwhile
      throw err;
    }
    try {
      if (tryLock(fd)) {
        removeIfPresent(path); // its process died without releasing it, or released it just now
        return undefined;
      }
      return parseStartTime(readFileSync(fd, "utf8"), path);
    } finally {
      closeSync(fd);
    }
  }
}

function tryLock(fd: number): boolean {
  try {
    fsExt.flockSync(fd, "exnb");
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EAGAIN" || code === "EWOULDBLOCK") return false;
    throw err;
  }
}

function parseStartTime(text: string, path: string): number {
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DatastoreError("gc-unsafe", `writer entry ${path} holds no start time`, {
      path,
      content: text.slice(0, 40),
    });
  }
  return value;
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

function listEntries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
