import { z } from "zod";
import type { ScheduledJob } from "../../jobs/scheduler.js";
import { ApiError } from "../api/api-errors.js";
import { defineRoute, type Route } from "../api/route.js";
import { storeName } from "../api/schema-types.js";
import { jobIdParam, jobNotFound, mayUseStore } from "./config-jobs-crud.js";
import type { Jobs } from "./jobs-setup.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

const AUDIT = [PRIV.datastoreAudit, PRIV.datastoreModify];
const RUN: Record<string, readonly string[]> = {
  prune: [PRIV.datastoreModify, PRIV.datastorePrune],
  verify: [PRIV.datastoreVerify, PRIV.datastoreModify],
  sync: [PRIV.datastoreBackup, PRIV.datastoreModify],
};

/** `/admin/{prune,verify,sync}` and `/admin/gc`: jobs with their state, and running one now. */
export function jobAdminRoutes(services: ServerServices, jobs: Jobs): Route[] {
  const entries = async (
    kind: "prune" | "verify" | "sync",
  ): Promise<[string, Record<string, unknown> & { store: string }][]> =>
    kind === "prune"
      ? Object.entries((await jobs.pruneJobs.read()).value.prune)
      : kind === "sync"
        ? Object.entries((await jobs.syncJobs.read()).value.sync)
        : Object.entries((await jobs.verifyJobs.read()).value.verify);
  const scheduled = async (kind: string, id: string): Promise<ScheduledJob> => {
    const job = (await jobs.list()).find((each) => each.kind === kind && each.id === id);
    if (job === undefined) throw jobNotFound(kind, id);
    return job;
  };
  const perKind = (kind: "prune" | "verify" | "sync"): Route[] => [
    defineRoute({
      method: "GET",
      path: `/admin/${kind}`,
      description: `List ${kind} jobs with their last run (last-run-upid, last-run-state, last-run-endtime) and next-run.`,
      parameters: z.strictObject({ store: storeName.optional() }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        const shown = [];
        for (const [id, entry] of (await entries(kind)).sort(([a], [b]) => (a < b ? -1 : 1))) {
          if (params.store !== undefined && entry.store !== params.store) continue;
          if (!(await mayUseStore(services, auth, entry.store, [...AUDIT, ...RUN[kind]!])))
            continue;
          const status = await jobs.scheduler.status({
            kind,
            id,
            ...(typeof entry.schedule === "string" && { schedule: entry.schedule }),
            ...(entry.disable === true && { disable: true }),
          });
          shown.push({ id, ...entry, ...status });
        }
        return shown;
      },
    }),
    defineRoute({
      method: "POST",
      path: `/admin/${kind}/{id}/run`,
      description: `Run a ${kind} job now; returns the UPID of its task.`,
      parameters: z.strictObject({ id: jobIdParam }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        const entry = (await entries(kind)).find(([id]) => id === params.id)?.[1];
        if (entry === undefined) throw jobNotFound(kind, params.id);
        if (!(await mayUseStore(services, auth, entry.store, RUN[kind]!))) {
          throw new ApiError("forbidden", `permission check failed on /datastore/${entry.store}`);
        }
        return jobs.scheduler.run(await scheduled(kind, params.id), auth!.authId);
      },
    }),
  ];
  const gcList = async (auth: Parameters<typeof mayUseStore>[1], only?: string) => {
    const shown = [];
    for (const store of await services.datastores.list()) {
      if (only !== undefined && store.name !== only) continue;
      if (!(await mayUseStore(services, auth, store.name, AUDIT))) continue;
      const schedule = store["gc-schedule"];
      const status = await jobs.scheduler.status({
        kind: "gc",
        id: store.name,
        ...(schedule !== undefined && { schedule }),
      });
      shown.push({ store: store.name, ...(schedule !== undefined && { schedule }), ...status });
    }
    return shown;
  };
  return [
    ...perKind("prune"),
    ...perKind("verify"),
    ...perKind("sync"),
    defineRoute({
      method: "GET",
      path: "/admin/gc",
      description: "Garbage collection per datastore: gc-schedule, last run and next-run.",
      parameters: z.strictObject({}),
      permission: { kind: "authenticated" },
      handler: ({ auth }) => gcList(auth),
    }),
    defineRoute({
      method: "GET",
      path: "/admin/gc/{store}",
      description: "Garbage collection of one datastore: gc-schedule, last run and next-run.",
      parameters: z.strictObject({ store: storeName }),
      permission: { kind: "privileges", path: "/datastore/{store}", privileges: AUDIT, any: true },
      handler: async ({ params, auth }) => {
        await services.datastores.entry(params.store);
        return gcList(auth, params.store);
      },
    }),
  ];
}
