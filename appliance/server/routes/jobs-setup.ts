import { join } from "node:path";
import { runGcJob } from "../../jobs/gc-job.js";
import {
  PRUNE_JOB_FILE,
  pruneJobFileSchema,
  VERIFY_JOB_FILE,
  verifyJobFileSchema,
} from "../../jobs/job-config.js";
import { JobStateStore } from "../../jobs/job-state.js";
import { jobOfTask } from "../../jobs/notifications/job-of-task.js";
import { jobNotification } from "../../jobs/notifications/notification.js";
import { Notifier } from "../../jobs/notifications/notifier.js";
import { runPruneJob } from "../../jobs/prune-job.js";
import { type ScheduledJob, Scheduler } from "../../jobs/scheduler.js";
import { runVerifyJob } from "../../jobs/verify-job.js";
import type { Route } from "../api/route.js";
import { JsonConfigFile } from "../config/json-config-file.js";
import { type RemoteConfigFile, remoteConfigFile } from "../config/remote-config-file.js";
import { configPruneJobRoutes } from "./config-jobs-prune.js";
import { configVerifyJobRoutes } from "./config-jobs-verify.js";
import { configNotificationRoutes, notificationsFile } from "./config-notifications.js";
import type { NotificationsFile } from "./config-notifications-crud.js";
import { jobAdminRoutes } from "./jobs-admin.js";
import type { ServerServices } from "./services.js";
import { scheduledSyncJobs, syncConfigRoutes, syncJobFile } from "./sync-setup.js";

export interface JobsOptions {
  configDir: string;
  stateDir: string;
  /** Epoch ms; tests move it. */
  now?: () => number;
  /** Zone schedules and prune buckets are read in (default: the process's). */
  timeZone?: string;
  /** The sendmail program for mail targets (default /usr/sbin/sendmail). */
  sendmailPath?: string;
}

export function pruneJobFile(configDir: string) {
  return new JsonConfigFile(configDir, PRUNE_JOB_FILE, pruneJobFileSchema, () => ({ prune: {} }));
}

export function verifyJobFile(configDir: string) {
  return new JsonConfigFile(configDir, VERIFY_JOB_FILE, verifyJobFileSchema, () => ({
    verify: {},
  }));
}

/** Everything the job routes work with. */
export interface Jobs {
  scheduler: Scheduler;
  pruneJobs: ReturnType<typeof pruneJobFile>;
  verifyJobs: ReturnType<typeof verifyJobFile>;
  syncJobs: ReturnType<typeof syncJobFile>;
  remotes: RemoteConfigFile;
  /** Every configured job (prune, verify, gc) as the scheduler runs it. */
  list(): Promise<ScheduledJob[]>;
  /** Sends job failures (and pool health changes) to the configured targets. */
  notifier: Notifier;
  notifications: NotificationsFile;
  routes: Route[];
}

/**
 * The scheduler over the prune, verify and GC configuration, and the routes that show and change
 * it. The daemon starts the scheduler once the server listens.
 */
export function createJobs(services: ServerServices, options: JobsOptions): Jobs {
  const { datastores, tasks } = services;
  const now = options.now ?? Date.now;
  const { timeZone } = options;
  const pruneJobs = pruneJobFile(options.configDir);
  const verifyJobs = verifyJobFile(options.configDir);
  const syncJobs = syncJobFile(options.configDir);
  const remotes = remoteConfigFile(options.configDir);
  const list = async (): Promise<ScheduledJob[]> => {
    const jobs: ScheduledJob[] = [];
    for (const [id, config] of Object.entries((await pruneJobs.read()).value.prune)) {
      jobs.push({
        kind: "prune",
        id,
        schedule: config.schedule,
        ...(config.disable !== undefined && { disable: config.disable }),
        workerType: "prunejob",
        workerId: `${config.store}:${id}`,
        run: async (task) =>
          runPruneJob(task, (await datastores.open(config.store)).store, config, timeZone),
      });
    }
    for (const [id, config] of Object.entries((await verifyJobs.read()).value.verify)) {
      jobs.push({
        kind: "verify",
        id,
        ...(config.schedule !== undefined && { schedule: config.schedule }),
        workerType: "verificationjob",
        workerId: `${config.store}:${id}`,
        run: async (task) =>
          runVerifyJob(
            task,
            (await datastores.open(config.store)).store,
            config,
            Math.floor(now() / 1000),
          ),
      });
    }
    for (const store of await datastores.list()) {
      jobs.push({
        kind: "gc",
        id: store.name,
        ...(store["gc-schedule"] !== undefined && { schedule: store["gc-schedule"] }),
        workerType: "garbage_collection",
        workerId: store.name,
        run: async (task) => {
          const { store: opened, tuning } = await datastores.open(store.name);
          await runGcJob(task, opened, {
            now,
            ...(tuning["gc-atime-cutoff"] !== undefined && {
              atimeCutoffMinutes: tuning["gc-atime-cutoff"],
            }),
            ...(tuning["gc-cache-capacity"] !== undefined && {
              cacheCapacity: tuning["gc-cache-capacity"],
            }),
          });
        },
      });
    }
    jobs.push(...(await scheduledSyncJobs(syncJobs, remotes, datastores)));
    return jobs;
  };
  const notifications = notificationsFile(options.configDir);
  const notifier = new Notifier({
    config: async () => (await notifications.read()).value,
    ...(options.sendmailPath !== undefined && { sendmailPath: options.sendmailPath }),
    onError: (message, err) => services.logger.warn({ err }, message),
  });
  const scheduler = new Scheduler({
    jobs: list,
    tasks,
    states: new JobStateStore(join(options.stateDir, "jobstates")),
    now,
    ...(timeZone !== undefined && { timeZone }),
    onError: (message, err) => services.logger.error({ err }, message),
  });
  // every task, scheduled or started by hand, notifies the same way once it has ended
  tasks.onTaskEnd((task) => {
    const job = jobOfTask(task.type, task.id);
    if (job === undefined) return;
    notifier.notify(async () =>
      jobNotification({
        ...job,
        upid: task.upid,
        exitstatus: task.exitstatus,
        log: (await tasks.readLog(task.upid, 0, 0)).lines.map((line) => line.t),
        hostname: notifier.hostname,
        timestamp: Math.floor(now() / 1000),
      }),
    );
  });
  const jobs: Jobs = {
    scheduler,
    pruneJobs,
    verifyJobs,
    syncJobs,
    remotes,
    list,
    notifier,
    notifications,
    routes: [],
  };
  jobs.routes = [
    ...configPruneJobRoutes(services, jobs),
    ...configVerifyJobRoutes(services, jobs),
    ...syncConfigRoutes(services, jobs),
    ...jobAdminRoutes(services, jobs),
    ...configNotificationRoutes(notifications, notifier),
  ];
  return jobs;
}
