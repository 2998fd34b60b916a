import { z } from "zod";
import { parseGroupFilter } from "../../jobs/group-filter.js";
import { parseByteSize, SYNC_DIRECTIONS, type SyncJobConfig } from "../../jobs/sync-config.js";
import { badParameters } from "../api/api-errors.js";
import type { Route } from "../api/route.js";
import {
  apiBoolean,
  apiInteger,
  apiList,
  authId,
  namespace,
  safeId,
  singleLine,
  storeName,
} from "../api/schema-types.js";
import { type JobEntry, jobConfigRoutes } from "./config-jobs-crud.js";
import { scheduleParam } from "./config-jobs-prune.js";
import type { Jobs } from "./jobs-setup.js";
import { PRIV } from "./privileges.js";
import type { ServerServices } from "./services.js";

const byteSize = z
  .union([z.string(), z.number()], { error: "must be a byte size like 10MiB" })
  .refine((value) => parseByteSize(value) !== undefined, {
    error: "must be a byte size like 10MiB",
  });

const groupFilter = z
  .string({ error: "must be a string" })
  .max(1024, { error: "must be at most 1024 characters long" })
  .superRefine((text, ctx) => {
    try {
      parseGroupFilter(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  });

export const SYNC_JOB_OPTIONS: Record<string, z.ZodType> = {
  "sync-direction": z
    .enum(SYNC_DIRECTIONS, { error: "must be pull or push" })
    .describe("pull (default): remote to local; push: local to the remote."),
  store: storeName.describe("Local datastore to sync into (push: to read from)."),
  ns: namespace.describe("Local namespace to sync into (push: to read from)."),
  remote: safeId(3, 32).describe(
    "Remote to pull from or push to; absent: another local datastore.",
  ),
  "remote-store": storeName.describe("Datastore to pull from (push: to write to)."),
  "remote-ns": namespace.describe("Namespace to pull from (push: to write to)."),
  owner: authId.describe("Owner of the synced groups (default root@pam)."),
  "remove-vanished": apiBoolean().describe(
    "Remove local snapshots the source no longer has (protected ones stay).",
  ),
  "max-depth": apiInteger(0, 7).describe("Namespace levels to descend."),
  "group-filter": apiList(groupFilter).describe(
    "Group filters: [include:|exclude:]type:<type>, group:<type>/<id> or regex:<regex>.",
  ),
  "transfer-last": apiInteger(1).describe("Sync only the newest N snapshots of each group."),
  "rate-in": byteSize.describe("Inbound rate limit in bytes per second (e.g. 10MiB)."),
  "burst-in": byteSize.describe("Inbound burst in bytes."),
  "rate-out": byteSize.describe("Outbound rate limit of a push in bytes per second (e.g. 10MiB)."),
  "burst-out": byteSize.describe("Outbound burst of a push in bytes."),
  schedule: scheduleParam,
  comment: singleLine(1024).describe("Comment."),
};

/** `/config/sync[/{id}]`: pull and push sync jobs; a job naming a remote needs it configured. */
export function configSyncJobRoutes(services: ServerServices, jobs: Jobs): Route[] {
  const requireRemotes = async (
    before: Record<string, JobEntry>,
    after: Record<string, JobEntry>,
  ) => {
    const { remote } = (await jobs.remotes.read()).value;
    for (const [id, entry] of Object.entries(after)) {
      const name = entry.remote;
      if (JSON.stringify(before[id]) === JSON.stringify(entry)) continue;
      if (entry["sync-direction"] === "push" && typeof name !== "string") {
        throw badParameters({ remote: "a push sync job needs a remote to push to" });
      }
      if (typeof name !== "string") continue;
      if (!Object.hasOwn(remote, name)) throw badParameters({ remote: `no remote named ${name}` });
    }
  };
  return jobConfigRoutes(services, {
    kind: "sync",
    title: "sync",
    source: {
      read: async () => {
        const { value, digest } = await jobs.syncJobs.read();
        return { jobs: value.sync as Record<string, JobEntry>, digest };
      },
      update: async (change, digest) => {
        await jobs.syncJobs.update(async (file) => {
          const before = file.sync as Record<string, JobEntry>;
          const after = change(before);
          await requireRemotes(before, after);
          return { sync: after as Record<string, SyncJobConfig> };
        }, digest);
      },
    },
    options: SYNC_JOB_OPTIONS,
    required: ["store", "remote-store"],
    audit: [PRIV.datastoreAudit, PRIV.datastoreModify, PRIV.datastoreBackup],
    modify: [PRIV.datastoreModify],
    removed: (id) => jobs.scheduler.forget({ kind: "sync", id }),
  });
}
