import { z } from "zod";
import { ownerMatches } from "../../../datastore/owner.js";
import { ApiError, forbidden } from "../../api/api-errors.js";
import { defineRoute, type Route } from "../../api/route.js";
import { authId } from "../../api/schema-types.js";
import type { ServerServices } from "../services.js";
import { groupParams, groupSchema, namespaceOf, storeParams } from "./params.js";
import { groupItem } from "./shapes.js";
import { hasFullAccess, RULES, requireGroupAccess, routePermission } from "./store-access.js";

const notesParam = z
  .string({ error: "must be a string" })
  .max(64 * 1024, { error: "must be at most 65536 characters long" })
  .describe("Notes (free text).");

export function groupRoutes(services: ServerServices): Route[] {
  const { datastores } = services;
  const target = async (params: z.infer<typeof groupSchema>) => ({
    storeName: params.store,
    store: (await datastores.open(params.store)).store,
    ns: namespaceOf(params),
    type: params["backup-type"],
    id: params["backup-id"],
  });

  return [
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/groups",
      description:
        "List the backup groups of a namespace. Datastore.Audit shows all, Datastore.Backup the caller's own.",
      parameters: z.strictObject(storeParams),
      permission: routePermission(RULES.list),
      handler: async ({ params, auth }) => {
        const { store } = await datastores.open(params.store);
        const ns = namespaceOf(params);
        const all = await hasFullAccess(services, auth, params.store, ns, RULES.list);
        const items = [];
        for (const group of await store.listGroups(ns)) {
          if (group.backupCount === 0) continue; // PBS leaves empty groups out
          if (!all && !(group.owner && ownerMatches(group.owner, auth!.authId))) continue;
          const snapshots = await store.listSnapshots(ns, group);
          const last =
            snapshots.filter((snapshot) => snapshot.finished).at(-1) ?? snapshots.at(-1)!;
          items.push(
            groupItem(
              group,
              last.time,
              last.files.map((file) => file.filename),
            ),
          );
        }
        return items;
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/admin/datastore/{store}/groups",
      description:
        "Delete a backup group and all its snapshots (none may be protected). Datastore.Modify, or Datastore.Prune as owner.",
      parameters: groupSchema,
      permission: routePermission(RULES.remove),
      handler: async ({ params, auth }) => {
        const group = await target(params);
        await requireGroupAccess(services, auth, group, RULES.remove);
        await group.store.deleteGroup(group.ns, group.type, group.id);
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/group-notes",
      description: "Read a backup group's notes.",
      parameters: groupSchema,
      permission: routePermission(RULES.list),
      handler: async ({ params, auth }) => {
        const group = await target(params);
        await requireGroupAccess(services, auth, group, RULES.list);
        return group.store.getGroupNotes(group.ns, group.type, group.id);
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/admin/datastore/{store}/group-notes",
      description: "Set a backup group's notes.",
      parameters: z.strictObject({ ...groupParams, notes: notesParam }),
      permission: routePermission(RULES.modify),
      handler: async ({ params, auth }) => {
        const group = await target(params);
        await requireGroupAccess(services, auth, group, RULES.modify);
        await group.store.setGroupNotes(group.ns, group.type, group.id, params.notes);
        return null;
      },
    }),
    defineRoute({
      method: "POST",
      path: "/admin/datastore/{store}/change-owner",
      description:
        "Change a backup group's owner. Datastore.Modify for any group; with Datastore.Backup only between the caller and its own tokens.",
      parameters: z.strictObject({ ...groupParams, "new-owner": authId }),
      permission: routePermission(RULES.modify),
      handler: async ({ params, auth }) => {
        const group = await target(params);
        const full = await hasFullAccess(services, auth, params.store, group.ns, RULES.modify);
        if (!full) {
          await requireGroupAccess(services, auth, group, RULES.modify);
          if (!ownerMatches(params["new-owner"], auth!.authId)) {
            throw forbidden(
              `permission check failed - ${auth!.authId} may only hand a group to itself or its own tokens`,
            );
          }
        }
        const active = await services.access.isActiveAuthId?.(params["new-owner"]);
        if (active === false) {
          throw new ApiError(
            "bad-request",
            `new-owner: ${params["new-owner"]} is not an existing, enabled user or API token`,
          );
        }
        await group.store.setOwner(group.ns, group.type, group.id, params["new-owner"]);
        return null;
      },
    }),
  ];
}
