import { z } from "zod";
import { groupPath, namespaceToDisplay } from "../../../datastore/names.js";
import { ownerMatches } from "../../../datastore/owner.js";
import { keepsSomething } from "../../../datastore/prune.js";
import { defineRoute, type Route } from "../../api/route.js";
import { apiBoolean, apiInteger, keepOptions, toPruneOptions } from "../../api/schema-types.js";
import type { ServerServices } from "../services.js";
import { groupParams, namespaceOf, storeParams } from "./params.js";
import { hasFullAccess, RULES, requireGroupAccess, routePermission } from "./store-access.js";

/** `--keep-last 3 --keep-daily 7`, as PBS logs the retention options. */
function describeKeep(params: Record<string, unknown>): string {
  return Object.keys(keepOptions)
    .filter((name) => params[name] !== undefined)
    .map((name) => `--${name} ${String(params[name])}`)
    .join(" ");
}

export function pruneRoutes(services: ServerServices): Route[] {
  const { datastores, tasks } = services;
  return [
    defineRoute({
      method: "POST",
      path: "/admin/datastore/{store}/prune",
      description:
        "Prune one backup group by the keep-* options: returns [{backup-type, backup-id, backup-time, keep, protected}] (dry-run removes nothing), or with use-task the UPID of a prune task. Datastore.Modify, or Datastore.Prune as owner.",
      parameters: z.strictObject({
        ...groupParams,
        ...keepOptions,
        "dry-run": apiBoolean().default(false).describe("Only show what would be removed."),
        "use-task": apiBoolean().default(false).describe("Run as a task and return its UPID."),
      }),
      permission: routePermission(RULES.remove),
      handler: async ({ params, auth }) => {
        const { store } = await datastores.open(params.store);
        const ns = namespaceOf(params);
        const type = params["backup-type"];
        const id = params["backup-id"];
        await requireGroupAccess(
          services,
          auth,
          { storeName: params.store, store, ns, type, id },
          RULES.remove,
        );
        const options = toPruneOptions(params);
        const prune = (log?: (level: "info" | "warn", message: string) => void) =>
          store.prune(ns, type, id, options, {
            dryRun: params["dry-run"],
            ...(log && { onLog: log }),
          });
        if (!params["use-task"]) return prune();
        return tasks.spawn({
          type: "prune",
          id: `${params.store}:${groupPath(ns, type, id)}`,
          authId: auth!.authId,
          run: async (task) => {
            task.log(`retention options: ${describeKeep(params)}`);
            if (params["dry-run"]) task.log("dry run - nothing is removed");
            await prune((level, message) =>
              level === "info" ? task.log(message) : task.warn(message),
            );
          },
        });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/admin/datastore/{store}/prune-datastore",
      description:
        "Prune every backup group below a namespace by the keep-* options; returns the UPID of the prune task. With only Datastore.Prune, the caller's own groups.",
      parameters: z.strictObject({
        ...storeParams,
        ...keepOptions,
        "max-depth": apiInteger(0, 7).optional().describe("Namespace levels to descend."),
        "dry-run": apiBoolean().default(false).describe("Only log what would be removed."),
      }),
      permission: routePermission(RULES.remove),
      handler: async ({ params, auth }) => {
        const { store } = await datastores.open(params.store);
        const ns = namespaceOf(params);
        const full = await hasFullAccess(services, auth, params.store, ns, RULES.remove);
        const options = toPruneOptions(params);
        return tasks.spawn({
          type: "prune",
          id: params.store,
          authId: auth!.authId,
          run: async (task) => {
            task.log(`retention options: ${describeKeep(params)}`);
            if (!keepsSomething(options)) task.log("No prune selection - keeping all files.");
            if (params["dry-run"]) task.log("dry run - nothing is removed");
            const log = (level: "info" | "warn", message: string) =>
              level === "info" ? task.log(message) : task.warn(message);
            for (const each of await store.listNamespaces(ns, params["max-depth"])) {
              for (const group of await store.listGroups(each)) {
                task.signal.throwIfAborted();
                if (!full && !(group.owner && ownerMatches(group.owner, auth!.authId))) continue;
                if (each.length > 0) task.log(`namespace ${namespaceToDisplay(each)}`);
                await store.prune(each, group.type, group.id, options, {
                  dryRun: params["dry-run"],
                  onLog: log,
                });
              }
            }
          },
        });
      },
    }),
  ];
}
