import { z } from "zod";
import { namespaceToDisplay, parseNamespace } from "../../../datastore/names.js";
import { badParameters, forbidden } from "../../api/api-errors.js";
import { defineRoute, type Route } from "../../api/route.js";
import { apiBoolean, apiInteger, namespace, safeId, storeName } from "../../api/schema-types.js";
import { holdsPrivileges } from "../../request-access.js";
import { ANY_DATASTORE_PRIVILEGE } from "../privileges.js";
import type { ServerServices } from "../services.js";
import { aclPathOf } from "./params.js";
import { RULES } from "./store-access.js";

export function namespaceRoutes(services: ServerServices): Route[] {
  const { datastores } = services;
  return [
    defineRoute({
      method: "GET",
      path: "/admin/datastore/{store}/namespace",
      description:
        "List the namespaces below `parent` (itself included), those the caller holds any datastore privilege on.",
      parameters: z.strictObject({
        store: storeName,
        parent: namespace.optional(),
        "max-depth": apiInteger(0, 7).optional().describe("Levels below parent to list."),
      }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        const { store } = await datastores.open(params.store);
        const parent = parseNamespace(params.parent ?? "");
        const items = [];
        for (const ns of await store.listNamespaces(parent, params["max-depth"])) {
          const path = aclPathOf(params.store, ns);
          if (await holdsPrivileges(services.access, auth, path, ANY_DATASTORE_PRIVILEGE, true)) {
            items.push({ ns: namespaceToDisplay(ns) });
          }
        }
        return items;
      },
    }),
    defineRoute({
      method: "POST",
      path: "/admin/datastore/{store}/namespace",
      description: "Create namespace `name` below `parent` (Datastore.Modify on the parent).",
      parameters: z.strictObject({
        store: storeName,
        name: safeId(1, 255).describe("The new namespace's name (one component)."),
        parent: namespace.optional(),
      }),
      permission: {
        kind: "privileges",
        path: "/datastore/{store}/{parent}",
        privileges: RULES.namespaceModify.full,
      },
      handler: async ({ params }) => {
        const { store } = await datastores.open(params.store);
        const ns = [...parseNamespace(params.parent ?? ""), params.name];
        let display: string;
        try {
          display = namespaceToDisplay(ns);
        } catch (err) {
          throw badParameters({ name: (err as Error).message });
        }
        await store.createNamespace(ns);
        return display;
      },
    }),
    defineRoute({
      method: "DELETE",
      path: "/admin/datastore/{store}/namespace",
      description:
        "Delete a namespace and those below it; they must hold no backup groups unless delete-groups is set (Datastore.Modify on the parent).",
      parameters: z.strictObject({
        store: storeName,
        ns: namespace.refine((text) => text !== "", { error: "must not be the root namespace" }),
        "delete-groups": apiBoolean().default(false).describe("Also delete the groups inside."),
      }),
      permission: { kind: "authenticated" },
      handler: async ({ params, auth }) => {
        const ns = parseNamespace(params.ns);
        const parentPath = aclPathOf(params.store, ns.slice(0, -1));
        if (
          !(await holdsPrivileges(services.access, auth, parentPath, RULES.namespaceModify.full))
        ) {
          throw forbidden(`permission check failed - needs Datastore.Modify on ${parentPath}`);
        }
        const { store } = await datastores.open(params.store);
        await store.deleteNamespace(ns, { deleteGroups: params["delete-groups"] });
        return null;
      },
    }),
  ];
}
