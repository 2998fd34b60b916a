/**
 * Runs scheduled jobs as tasks: each job at most once at a time, a job whose time passed while the
 * server was down runs once at the next check, and every run is recorded in the job state files.
 */
import { CalendarEvent } from "./calendar-event.js";
import { JobError } from "./errors.js";
import { type JobKey, type JobState, type JobStateStore, jobKeyText } from "./job-state.js";

/** What a job's work function gets from the task it runs in. */
export interface JobTask {
  readonly upid: string;
  readonly signal: AbortSignal;
  log(message: string): void;
  warn(message: string): void;
}

/** The seam to the server's TaskManager. */
export interface TaskRunner {
  spawn(options: {
    type: string;
    id?: string;
    authId: string;
    run(task: JobTask): Promise<void>;
  }): Promise<string>;
  /** Resolves when the task has ended (at once for one that is not running). */
  wait(upid: string): Promise<{ exitstatus?: string }>;
}

export interface ScheduledJob extends JobKey {
  /** Calendar event; a job without one only runs when asked. */
  schedule?: string;
  disable?: boolean;
  /** PBS worker type and id of its task, e.g. `prunejob`, `store1:daily`. */
  workerType: string;
  workerId: string;
  run(task: JobTask): Promise<void>;
}

/** A job's state as the API lists it beside its configuration. */
export interface JobStatus {
  "last-run-upid"?: string;
  "last-run-state"?: string;
  "last-run-endtime"?: number;
  /** Epoch s; absent for jobs without (or with a never-again) schedule, and disabled ones. */
  "next-run"?: number;
}

export interface SchedulerOptions {
  /** The jobs as configured now; read again at every check. */
  jobs: () => Promise<ScheduledJob[]>;
  tasks: TaskRunner;
  states: JobStateStore;
  /** Epoch ms (tests move it). */
  now?: () => number;
  /** IANA zone the schedules are read in; default the process's. */
  timeZone?: string;
  /** Where failures of the scheduler itself go (a job's own failure is in its task). */
  onError?: (message: string, err: unknown) => void;
  /** Longest wait between checks, so configuration changes are seen (default 60 s). */
  maxSleepMs?: number;
}

const SCHEDULER_AUTH_ID = "root@pam";

export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #now: () => number;
  readonly #running = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Checks now (catching up what was missed while down), then whenever the next job is due. */
  start(): void {
    this.#stopped = false;
    void this.#loop();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #loop(): Promise<void> {
    let sleep = this.#options.maxSleepMs ?? 60_000;
    try {
      const next = await this.tick();
      if (next !== undefined) sleep = Math.min(sleep, Math.max(1000, next * 1000 - this.#now()));
    } catch (err) {
      this.#options.onError?.("job scheduler check failed", err);
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#loop(), sleep);
    this.#timer.unref();
  }

  /**
   * Starts every job that is due and not running. Returns the earliest next run (epoch s) of the
   * jobs not started, to know when to look again.
   */
  async tick(): Promise<number | undefined> {
    const now = Math.floor(this.#now() / 1000);
    let earliest: number | undefined;
    for (const job of await this.#options.jobs()) {
      if (job.disable || job.schedule === undefined || this.#running.has(jobKeyText(job))) continue;
      let next: number | undefined;
      try {
        next = await this.#nextRun(job, job.schedule, now);
      } catch (err) {
        this.#options.onError?.(`job ${jobKeyText(job)} has a bad schedule`, err);
        continue;
      }
      if (next === undefined) continue;
      if (next <= now) await this.#start(job);
      else earliest = earliest === undefined ? next : Math.min(earliest, next);
    }
    return earliest;
  }

  /** Runs a job now (the API's `…/{id}/run`); refused while it is running. */
  async run(job: ScheduledJob, authId = SCHEDULER_AUTH_ID): Promise<string> {
    if (this.#running.has(jobKeyText(job))) {
      throw new JobError("busy", `job ${job.kind} ${job.id} is already running`, { ...job });
    }
    return this.#start(job, authId);
  }

  /** The recorded state of a job and its next run. */
  async status(
    job: Pick<ScheduledJob, "kind" | "id" | "schedule" | "disable">,
  ): Promise<JobStatus> {
    const state = await this.#settled(job);
    const status: JobStatus = {
      ...(state?.["last-run-upid"] !== undefined && { "last-run-upid": state["last-run-upid"] }),
      ...(state?.["last-run-state"] !== undefined && { "last-run-state": state["last-run-state"] }),
      ...(state?.["last-run-endtime"] !== undefined && {
        "last-run-endtime": state["last-run-endtime"],
      }),
    };
    if (job.disable || job.schedule === undefined) return status;
    let next: Date | undefined;
    try {
      const base = state?.["last-run"] ?? state?.created ?? Math.floor(this.#now() / 1000);
      next = CalendarEvent.parse(job.schedule).next(new Date(base * 1000), this.#options.timeZone);
    } catch {
      return status;
    }
    return next === undefined ? status : { ...status, "next-run": next.getTime() / 1000 };
  }

  /** Resolves when every run started so far has ended and been recorded (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  /** Forgets a removed job's history. */
  async forget(key: JobKey): Promise<void> {
    await this.#options.states.remove(key);
  }

  async #nextRun(job: JobKey, schedule: string, now: number): Promise<number | undefined> {
    const event = CalendarEvent.parse(schedule);
    let state = await this.#settled(job);
    if (state === undefined) {
      // a new job waits for its first scheduled time instead of running at once
      state = { created: now };
      await this.#options.states.write(job, state);
    }
    const base = state["last-run"] ?? state.created;
    const next = event.next(new Date(base * 1000), this.#options.timeZone);
    return next === undefined ? undefined : next.getTime() / 1000;
  }

  /** The state, with the end of a run this process no longer watches (a restart) filled in. */
  async #settled(job: JobKey): Promise<JobState | undefined> {
    const state = await this.#options.states.read(job);
    const upid = state?.["last-run-upid"];
    if (!state || upid === undefined || state["last-run-endtime"] !== undefined) return state;
    if (this.#running.has(jobKeyText(job))) return state;
    const { exitstatus } = await this.#options.tasks
      .wait(upid)
      .catch(() => ({ exitstatus: "unknown" }));
    const ended: JobState = {
      ...state,
      "last-run-state": exitstatus ?? "unknown",
      "last-run-endtime": Math.floor(this.#now() / 1000),
    };
    await this.#options.states.write(job, ended);
    return ended;
  }

  async #start(job: ScheduledJob, authId = SCHEDULER_AUTH_ID): Promise<string> {
    const key = jobKeyText(job);
    let release!: () => void;
    // claimed before the first await, so two checks never start the same job twice
    this.#running.set(key, new Promise<void>((resolve) => (release = resolve)));
    try {
      const started = Math.floor(this.#now() / 1000);
      const previous = await this.#options.states.read(job);
      const upid = await this.#options.tasks.spawn({
        type: job.workerType,
        id: job.workerId,
        authId,
        run: (task) => job.run(task),
      });
      const state: JobState = {
        created: previous?.created ?? started,
        "last-run": started,
        "last-run-upid": upid,
      };
      await this.#options.states.write(job, state);
      void this.#finish(job, state, upid).finally(() => {
        this.#running.delete(key);
        release();
      });
      return upid;
    } catch (err) {
      this.#running.delete(key);
      release();
      throw err;
    }
  }

  async #finish(job: ScheduledJob, state: JobState, upid: string): Promise<void> {
    try {
      const { exitstatus } = await this.#options.tasks.wait(upid);
      await this.#options.states.write(job, {
        ...state,
        "last-run-state": exitstatus ?? "unknown",
        "last-run-endtime": Math.floor(this.#now() / 1000),
      });
    } catch (err) {
      this.#options.onError?.(`cannot record the end of job ${jobKeyText(job)}`, err);
    }
  }
}
