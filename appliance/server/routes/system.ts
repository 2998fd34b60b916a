import type { Route } from "../api/route.js";
import { nodesDiskRoutes, type SystemRouteOptions } from "./nodes-disks.js";
import { nodesNetworkRoutes } from "./nodes-network.js";
import type { ServerServices } from "./services.js";

export type { SystemRouteOptions } from "./nodes-disks.js";

/**
 * The routes that need root: disks, ZFS pools, network, DNS and time. The privileged service
 * serves exactly these; a public daemon beside it forwards them (see `privileged/`).
 */
export function systemRoutes(services: ServerServices, options: SystemRouteOptions): Route[] {
  return [...nodesDiskRoutes(services, options), ...nodesNetworkRoutes(services, options)];
}
