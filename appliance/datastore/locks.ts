import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import fsExt from "fs-ext";
import { DatastoreError } from "./errors.js";

export type LockMode = "shared" | "exclusive";

export interface LockOptions {
  /** How long to keep retrying a busy lock, in milliseconds (default 0: fail at once). */
  timeoutMs?: number;
  /** What the lock is taken for, named in the error when it is busy. */
  purpose?: string;
}

/** A held lock; release() is idempotent. The kernel also drops it when the process dies. */
export class HeldLock {
  #fd: number | undefined;

  constructor(
    fd: number,
    readonly name: string,
    readonly mode: LockMode,
  ) {
    this.#fd = fd;
  }

  get held(): boolean {
    return this.#fd !== undefined;
  }

  release(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd); // closing the description drops the flock
    this.#fd = undefined;
  }
}

const RETRY_MS = 20;

/**
 * Named flock(2) locks under one directory. Each acquisition opens its own file description, so two
 * locks on one name conflict within a process exactly as they do across processes.
 */
export class LockDirectory {
  constructor(readonly dir: string) {}

  /** The lock file for a name (a relative path such as `host/a` or `gc`). */
  pathOf(name: string): string {
    return join(this.dir, `${createHash("sha256").update(name).digest("hex").slice(0, 32)}.lck`);
  }

  /** Takes the lock or throws DatastoreError "lock-busy" after `timeoutMs`. */
  async acquire(name: string, mode: LockMode, options: LockOptions = {}): Promise<HeldLock> {
    const deadline = Date.now() + (options.timeoutMs ?? 0);
    for (;;) {
      const lock = this.tryAcquire(name, mode);
      if (lock) return lock;
      if (Date.now() >= deadline) {
        throw new DatastoreError(
          "lock-busy",
          `${name} is locked by another operation${options.purpose ? `; cannot ${options.purpose}` : ""}`,
          { lock: name, mode },
          409,
        );
      }
      await sleep(RETRY_MS);
    }
  }

  /** Takes the lock if it is free; undefined when it is busy. */
  tryAcquire(name: string, mode: LockMode): HeldLock | undefined {
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(this.pathOf(name), "a", 0o644);
    try {
      fsExt.flockSync(fd, mode === "shared" ? "shnb" : "exnb");
      return new HeldLock(fd, name, mode);
    } catch (err) {
      closeSync(fd);
      if (
        (err as NodeJS.ErrnoException).code === "EAGAIN" ||
        (err as NodeJS.ErrnoException).code === "EWOULDBLOCK"
      ) {
        return undefined;
      }
      throw err;
    }
  }
}
