import { z } from "zod";
import { ownerMatches } from "../../../datastore/owner.js";
import { defineRoute, type Route } from "../../api/route.js";
import { apiBoolean, backupId, backupType } from "../../api/schema-types.js";
import type { ServerServices } from "../services.js";
import {
  namespaceOf,
  snapshotParams,
  snapshotRefOf,
  snapshotSchema,
  storeParams,
} from "./params.js";
import { fileItem, snapshotItem } from "./shapes.js";
import { hasFullAccess, RULES, requireGroupAccess, routePermission } from "./store-access.js";

const notesParam = z
  .string({ error: "must be a string" })
  .max(64 * 1024, { error: "must be at most 65536 characters long" })
  .describe("Notes (free text).");

export function snapshotRoutes(services: ServerServices): Route[] {
  const { datastores } = services;
  /** The snapshot's store and ref, after the caller's access to its group is checked. */
  const resolve = async (
    params: z.infer<typeof snapshotSchema>,
    auth: Parameters<Route["handler"]>[0]["auth"],
    rule: (typeof RULES)[keyof typeof RULES],
  ) => {
    const { store } = await datastores.open(params.store);
    const ref = snapshotRefOf(params);
    await requireGroupAccess(
      services,
      auth,
      { storeName: params.store, store, ns: ref.ns, type: ref.type, id: ref.id },
      rule,
    );
    return { store, ref };
  };

  return [
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/snapshots",
      description:
        "List snapshots of a namespace, optionally of one type or group. Datastore.Audit shows all, Datastore.Backup the caller's own groups.",
      parameters: z.strictObject({
        ...storeParams,
        "backup-type": backupType.optional(),
        "backup-id": backupId.optional(),
      }),
      permission: routePermission(RULES.list),
      handler: async ({ params, auth }) => {
        const { store } = await datastores.open(params.store);
        const ns = namespaceOf(params);
        const all = await hasFullAccess(services, auth, params.store, ns, RULES.list);
        const type = params["backup-type"];
        const id = params["backup-id"];
        const snapshots =
          type !== undefined && id !== undefined
            ? await store.listSnapshots(ns, { type, id })
            : await store.listSnapshots(ns);
        return snapshots
          .filter(
            (info) =>
              (type === undefined || info.type === type) && (id === undefined || info.id === id),
          )
          .filter(
            (info) => all || (info.owner !== undefined && ownerMatches(info.owner, auth!.authId)),
          )
          .map(snapshotItem);
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/admin/datastore/{store}/snapshots",
      description:
        "Delete one snapshot (not when protected or in use). Datastore.Modify, or Datastore.Prune as owner.",
      parameters: snapshotSchema,
      permission: routePermission(RULES.remove),
      handler: async ({ params, auth }) => {
        const { store, ref } = await resolve(params, auth, RULES.remove);
        await store.deleteSnapshot(ref);
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/files",
      description: "List the files of a snapshot: [{filename, crypt-mode, size}].",
      parameters: snapshotSchema,
      permission: routePermission(RULES.read),
      handler: async ({ params, auth }) => {
        const { store, ref } = await resolve(params, auth, RULES.read);
        return (await store.snapshotInfo(ref)).files.map(fileItem);
      },
    }),
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/notes",
      description: "Read a snapshot's notes (from its manifest).",
      parameters: snapshotSchema,
      permission: routePermission(RULES.list),
      handler: async ({ params, auth }) => {
        const { store, ref } = await resolve(params, auth, RULES.list);
        return store.getNotes(ref);
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/admin/datastore/{store}/notes",
      description: "Set a snapshot's notes.",
      parameters: z.strictObject({ ...snapshotParams, notes: notesParam }),
      permission: routePermission(RULES.modify),
      handler: async ({ params, auth }) => {
        const { store, ref } = await resolve(params, auth, RULES.modify);
        await store.setNotes(ref, params.notes);
        return null;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/protected",
      description: "Whether a snapshot is protected from removal.",
      parameters: snapshotSchema,
      permission: routePermission(RULES.list),
      handler: async ({ params, auth }) => {
        const { store, ref } = await resolve(params, auth, RULES.list);
        return store.isProtected(ref);
      },
    }),
    defineRoute({
      method: "PUT",
      path: "/admin/datastore/{store}/protected",
      description: "Protect a snapshot from removal, or lift the protection.",
      parameters: z.strictObject({ ...snapshotParams, protected: apiBoolean() }),
      permission: routePermission(RULES.modify),
      handler: async ({ params, auth }) => {
        const { store, ref } = await resolve(params, auth, RULES.modify);
        await store.setProtected(ref, params.protected);
        return null;
      },
    }),
  ];
}
