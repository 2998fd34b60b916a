import type { ScheduledJob } from "../../jobs/scheduler.js";
import { SYNC_JOB_FILE, syncJobFileSchema } from "../../jobs/sync-config.js";
import { runSyncJob } from "../../jobs/sync-job.js";
import type { Route } from "../api/route.js";
import { JsonConfigFile } from "../config/json-config-file.js";
import { type RemoteConfigFile, remoteEndpoint } from "../config/remote-config-file.js";
import type { DatastoreRegistry } from "../datastore-registry.js";
import { configSyncJobRoutes } from "./config-jobs-sync.js";
import { configRemoteRoutes } from "./config-remote.js";
import type { Jobs } from "./jobs-setup.js";
import type { ServerServices } from "./services.js";

export function syncJobFile(configDir: string) {
  return new JsonConfigFile(configDir, SYNC_JOB_FILE, syncJobFileSchema, () => ({ sync: {} }));
}

/** The configured sync jobs as the scheduler runs them (task type `syncjob`, PBS's). */
export async function scheduledSyncJobs(
  syncJobs: ReturnType<typeof syncJobFile>,
  remotes: RemoteConfigFile,
  datastores: DatastoreRegistry,
): Promise<ScheduledJob[]> {
  const env = {
    openStore: async (name: string) => (await datastores.open(name)).store,
    remote: (name: string) => remoteEndpoint(remotes, name),
  };
  return Object.entries((await syncJobs.read()).value.sync).map(([id, config]) => ({
    kind: "sync",
    id,
    ...(config.schedule !== undefined && { schedule: config.schedule }),
    workerType: "syncjob",
    workerId: `${config.remote ?? "local"}:${config["remote-store"]}:${config.store}:${id}`,
    run: async (task) => {
      await runSyncJob(task, config, env);
    },
  }));
}

/** `/config/remote…` and `/config/sync…`. */
export function syncConfigRoutes(services: ServerServices, jobs: Jobs): Route[] {
  return [...configRemoteRoutes(services, jobs.remotes), ...configSyncJobRoutes(services, jobs)];
}
