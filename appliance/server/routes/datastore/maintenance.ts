import { z } from "zod";
import { type GcStatus, garbageCollect } from "../../../datastore/gc.js";
import { formatSnapshotTime, groupPath } from "../../../datastore/names.js";
import { badParameters } from "../../api/api-errors.js";
import { defineRoute, type Route } from "../../api/route.js";
import {
  apiBoolean,
  apiInteger,
  backupId,
  backupTime,
  backupType,
} from "../../api/schema-types.js";
import type { ServerServices } from "../services.js";
import { namespaceOf, storeParams } from "./params.js";
import { hasFullAccess, RULES, requireGroupAccess, routePermission } from "./store-access.js";
import { runVerify } from "./verify-work.js";

/** PBS reports zeros before the first garbage collection. */
const EMPTY_GC_STATUS: GcStatus = {
  "index-file-count": 0,
  "index-data-bytes": 0,
  "disk-bytes": 0,
  "disk-chunks": 0,
  "removed-bytes": 0,
  "removed-chunks": 0,
  "pending-bytes": 0,
  "pending-chunks": 0,
  "removed-bad": 0,
  "still-bad": 0,
  "missing-chunks": 0,
  "deduplication-factor": null,
};

export function maintenanceRoutes(services: ServerServices): Route[] {
  const { datastores, tasks } = services;
  return [
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/status",
      description:
        "Space of the datastore's file system and the last garbage collection; with verbose, group and snapshot counts per type.",
      parameters: z.strictObject({
        store: storeParams.store,
        verbose: apiBoolean().default(false).describe("Include counts per backup type."),
      }),
      permission: routePermission(RULES.list),
      handler: async ({ params }) => {
        const { store } = await datastores.open(params.store);
        const status = await store.status();
        return {
          total: status.total,
          used: status.used,
          avail: status.avail,
          ...(status.gcStatus && { "gc-status": status.gcStatus }),
          ...(params.verbose && { counts: status.counts }),
        };
      },
    }),
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/gc",
      description: "Result of the last garbage collection (zeros before the first).",
      parameters: z.strictObject({ store: storeParams.store }),
      permission: routePermission(RULES.audit),
      handler: async ({ params }) => {
        const { store } = await datastores.open(params.store);
        return (await store.status()).gcStatus ?? EMPTY_GC_STATUS;
      },
    }),
    defineRoute({
      method: "POST",
      path: "/admin/datastore/{store}/gc",
      description: "Start a garbage collection; returns the UPID of the garbage_collection task.",
      parameters: z.strictObject({ store: storeParams.store }),
      permission: routePermission(RULES.gc),
      handler: async ({ params, auth }) => {
        const { store, tuning } = await datastores.open(params.store);
        return tasks.spawn({
          type: "garbage_collection",
          id: params.store,
          authId: auth!.authId,
          run: async (task) => {
            task.log(`starting garbage collection on store ${params.store}`);
            await garbageCollect(store.chunks, {
              upid: task.upid,
              signal: task.signal,
              onLog: (level, message) =>
                level === "info" ? task.log(message) : task.warn(message),
              ...(tuning["gc-atime-cutoff"] !== undefined && {
                atimeCutoffMinutes: tuning["gc-atime-cutoff"],
              }),
              ...(tuning["gc-cache-capacity"] !== undefined && {
                cacheCapacity: tuning["gc-cache-capacity"],
              }),
            });
          },
        });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/admin/datastore/{store}/verify",
      description:
        "Verify a snapshot, a group, or every snapshot below a namespace; returns the UPID of the verify task. Datastore.Verify, or Datastore.Backup for own groups.",
      parameters: z.strictObject({
        ...storeParams,
        "backup-type": backupType.optional(),
        "backup-id": backupId.optional(),
        "backup-time": backupTime.optional(),
        "ignore-verified": apiBoolean().default(true).describe("Skip snapshots verified before."),
        "outdated-after": apiInteger(1)
          .optional()
          .describe("Days after which a verification is outdated."),
        "max-depth": apiInteger(0, 7).optional().describe("Namespace levels to descend."),
      }),
      permission: routePermission(RULES.verify),
      handler: async ({ params, auth }) => {
        const { store } = await datastores.open(params.store);
        const ns = namespaceOf(params);
        const type = params["backup-type"];
        const id = params["backup-id"];
        const time = params["backup-time"];
        const filters = {
          ignoreVerified: params["ignore-verified"],
          ...(params["outdated-after"] !== undefined && {
            outdatedAfterDays: params["outdated-after"],
          }),
        };
        if (type === undefined || id === undefined) {
          if (type !== undefined || id !== undefined || time !== undefined) {
            throw badParameters({
              "backup-id": "backup-type and backup-id go together; backup-time needs both",
            });
          }
          const full = await hasFullAccess(services, auth, params.store, ns, RULES.verify);
          const maxDepth = params["max-depth"];
          return tasks.spawn({
            type: "verify",
            id: params.store,
            authId: auth!.authId,
            run: (task) =>
              runVerify(
                task,
                store,
                {
                  kind: "namespace",
                  ns,
                  ...(maxDepth !== undefined && { maxDepth }),
                  ...(!full && { ownedBy: auth!.authId }),
                },
                filters,
              ),
          });
        }
        const target = { storeName: params.store, store, ns, type, id };
        await requireGroupAccess(services, auth, target, RULES.verify);
        const group = groupPath(ns, type, id);
        return tasks.spawn({
          type: time === undefined ? "verify_group" : "verify_snapshot",
          id: `${params.store}:${time === undefined ? group : `${group}/${formatSnapshotTime(time)}`}`,
          authId: auth!.authId,
          run: (task) =>
            runVerify(
              task,
              store,
              time === undefined
                ? { kind: "group", ns, type, id }
                : { kind: "snapshot", ref: { ns, type, id, time } },
              filters,
            ),
        });
      },
    }),
  ];
}
