import { execaRunner } from "../../system/index.js";
import type { Route } from "../api/route.js";
import { certificateRoutes } from "./certificates.js";
import { configDatastoreRoutes } from "./config-datastore.js";
import { downloadRoutes } from "./datastore/downloads.js";
import { groupRoutes } from "./datastore/groups.js";
import { datastoreListRoutes } from "./datastore/list.js";
import { maintenanceRoutes } from "./datastore/maintenance.js";
import { namespaceRoutes } from "./datastore/namespaces.js";
import { pruneRoutes } from "./datastore/prune.js";
import { snapshotRoutes } from "./datastore/snapshots.js";
import { rootRoutes } from "./root.js";
import type { ServerServices } from "./services.js";
import { systemRoutes } from "./system.js";
import { taskRoutes } from "./tasks.js";

/**
 * Every route this folder defines (the access routes live with the auth module). `system`
 * replaces the root-only routes run in this process (a forwarder to the privileged service).
 */
export function serverRoutes(services: ServerServices, system?: Route[]): Route[] {
  return [
    ...rootRoutes(),
    ...taskRoutes(services),
    ...certificateRoutes(services),
    ...configDatastoreRoutes(services),
    ...datastoreListRoutes(services),
    ...groupRoutes(services),
    ...snapshotRoutes(services),
    ...maintenanceRoutes(services),
    ...pruneRoutes(services),
    ...namespaceRoutes(services),
    ...downloadRoutes(services),
    ...(system ?? systemRoutes(services, { runner: execaRunner })),
  ];
}
