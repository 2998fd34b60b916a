import type { z } from "zod";
import { CalendarEvent } from "../../jobs/calendar-event.js";
import type { PruneJobConfig } from "../../jobs/job-config.js";
import type { Route } from "../api/route.js";
import {
  apiBoolean,
  apiInteger,
  keepOptions,
  namespace,
  singleLine,
  storeName,
} from "../api/schema-types.js";
import { type JobEntry, jobConfigRoutes } from "./config-jobs-crud.js";
import type { Jobs } from "./jobs-setup.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

/** A calendar event, with the parser's message on a bad one. */
export const scheduleParam = singleLine(256)
  .superRefine((text, ctx) => {
    try {
      CalendarEvent.parse(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  })
  .describe("Schedule (calendar event, e.g. daily, mon..fri 02:00, *:0/15).");

export const PRUNE_JOB_OPTIONS = {
  store: storeName,
  ns: namespace,
  "max-depth": apiInteger(0, 7).describe("Namespace levels to descend."),
  ...Object.fromEntries(
    Object.entries(keepOptions).map(([name, schema]) => [name, schema.unwrap()]),
  ),
  schedule: scheduleParam,
  disable: apiBoolean().describe("Do not run on schedule."),
  comment: singleLine(1024).describe("Comment."),
} as Record<string, z.ZodType>;

/** `/config/prune[/{id}]`: prune jobs (Datastore.Modify or Datastore.Prune on the store). */
export function configPruneJobRoutes(services: ServerServices, jobs: Jobs): Route[] {
  return jobConfigRoutes(services, {
    kind: "prune",
    title: "prune",
    source: {
      read: async () => {
        const { value, digest } = await jobs.pruneJobs.read();
        return { jobs: value.prune as Record<string, JobEntry>, digest };
      },
      update: async (change, digest) => {
        await jobs.pruneJobs.update(
          (file) => ({
            prune: change(file.prune as Record<string, JobEntry>) as Record<string, PruneJobConfig>,
          }),
          digest,
        );
      },
    },
    options: PRUNE_JOB_OPTIONS,
    required: ["store", "schedule"],
    audit: [PRIV.datastoreAudit, PRIV.datastoreModify, PRIV.datastorePrune],
    modify: [PRIV.datastoreModify, PRIV.datastorePrune],
    removed: (id) => jobs.scheduler.forget({ kind: "prune", id }),
  });
}
