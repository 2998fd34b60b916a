import { z } from "zod";
import { defineRoute, type Route } from "../../api/route.js";
import { holdsPrivileges } from "../../request-access.js";
import { ANY_DATASTORE_PRIVILEGE, PRIV } from "../privileges.js";
import type { ServerServices } from "../services.js";

export function datastoreListRoutes(services: ServerServices): Route[] {
  const { datastores } = services;
  const visible = (
    auth: Parameters<Route["handler"]>[0]["auth"],
    name: string,
    privileges: readonly string[],
  ) => holdsPrivileges(services.access, auth, `/datastore/${name}`, privileges, true);

  return [
    defineRoute({
      method: "GET",
      path: "/admin/datastore",
      description:
        "List the datastores the caller holds any datastore privilege on: [{store, comment}].",
      parameters: z.strictObject({}),
      permission: { kind: "authenticated" },
      handler: async ({ auth }) => {
        const items = [];
        for (const store of await datastores.list()) {
          if (!(await visible(auth, store.name, ANY_DATASTORE_PRIVILEGE))) continue;
          items.push({
            store: store.name,
            ...(store.comment !== undefined && { comment: store.comment }),
          });
        }
        return items;
      },
    }),
    defineRoute({
      method: "GET",
      path: "/status/datastore-usage",
      description:
        "Space used and available per datastore (those the caller may audit or back up to), with the last garbage collection.",
      parameters: z.strictObject({}),
      permission: { kind: "authenticated" },
      handler: async ({ auth }) => {
        const items = [];
        for (const config of await datastores.list()) {
          if (!(await visible(auth, config.name, [PRIV.datastoreAudit, PRIV.datastoreBackup])))
            continue;
          try {
            const status = await (await datastores.open(config.name)).store.status();
            items.push({
              store: config.name,
              total: status.total,
              used: status.used,
              avail: status.avail,
              ...(status.gcStatus && { "gc-status": status.gcStatus }),
            });
          } catch (err) {
            items.push({ store: config.name, error: (err as Error).message });
          }
        }
        return items;
      },
    }),
  ];
}
