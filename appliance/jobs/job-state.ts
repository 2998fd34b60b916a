/**
 * The persisted state of each scheduled job (PBS's jobstates): when it was created or last ran,
 * with which task and result. One small JSON file per job, replaced atomically.
 */
import { mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../datastore/atomic-file.js";

export interface JobState {
  /** When the state was first recorded (epoch s): a job never run is due after this. */
  created: number;
  /** Start of the last run (epoch s). */
  "last-run"?: number;
  "last-run-upid"?: string;
  /** The task's exit status (`OK`, `WARNINGS: 2`, an error message, `unknown`) once it ended. */
  "last-run-state"?: string;
  "last-run-endtime"?: number;
}

/** A job as the state files name it: `<kind>-<id>.json`, kind being prune, verify, gc… */
export interface JobKey {
  kind: string;
  id: string;
}

export function jobKeyText(key: JobKey): string {
  return `${key.kind}-${key.id}`;
}

export class JobStateStore {
  constructor(readonly dir: string) {}

  #path(key: JobKey): string {
    return join(this.dir, `${jobKeyText(key)}.json`);
  }

  async read(key: JobKey): Promise<JobState | undefined> {
    try {
      return JSON.parse(await readFile(this.#path(key), "utf8")) as JobState;
    } catch (err) {
      // a missing or torn file is a job without history: it is rescheduled from now
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || err instanceof SyntaxError) {
        return undefined;
      }
      throw err;
    }
  }

  async write(key: JobKey, state: JobState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.#path(key), `${JSON.stringify(state)}\n`, {
      fsync: true,
      mode: 0o600,
    });
  }

  async remove(key: JobKey): Promise<void> {
    await unlink(this.#path(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}
