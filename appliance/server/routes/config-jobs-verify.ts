import type { z } from "zod";
import type { VerifyJobConfig } from "../../jobs/job-config.js";
import type { Route } from "../api/route.js";
import { apiBoolean, apiInteger, namespace, singleLine, storeName } from "../api/schema-types.js";
import { type JobEntry, jobConfigRoutes } from "./config-jobs-crud.js";
import { scheduleParam } from "./config-jobs-prune.js";
import type { Jobs } from "./jobs-setup.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

export const VERIFY_JOB_OPTIONS: Record<string, z.ZodType> = {
  store: storeName,
  ns: namespace,
  "max-depth": apiInteger(0, 7).describe("Namespace levels to descend."),
  "ignore-verified": apiBoolean().describe("Skip snapshots verified before (default true)."),
  "outdated-after": apiInteger(1).describe("Days after which a verification is outdated."),
  schedule: scheduleParam,
  comment: singleLine(1024).describe("Comment."),
};

/** `/config/verify[/{id}]`: verify jobs (Datastore.Verify or Datastore.Modify on the store). */
export function configVerifyJobRoutes(services: ServerServices, jobs: Jobs): Route[] {
  return jobConfigRoutes(services, {
    kind: "verify",
    title: "verify",
    source: {
      read: async () => {
        const { value, digest } = await jobs.verifyJobs.read();
        return { jobs: value.verify as Record<string, JobEntry>, digest };
      },
      update: async (change, digest) => {
        await jobs.verifyJobs.update(
          (file) => ({
            verify: change(file.verify as Record<string, JobEntry>) as Record<
              string,
              VerifyJobConfig
            >,
          }),
          digest,
        );
      },
    },
    options: VERIFY_JOB_OPTIONS,
    required: ["store"],
    audit: [PRIV.datastoreAudit, PRIV.datastoreVerify, PRIV.datastoreModify],
    modify: [PRIV.datastoreVerify, PRIV.datastoreModify],
    removed: (id) => jobs.scheduler.forget({ kind: "verify", id }),
  });
}
