import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Route } from "../../../appliance/server/api/route.js";
import { silentLogger } from "../../../appliance/server/logger.js";
import type { RequestAccess } from "../../../appliance/server/request-access.js";
import type { ServerServices } from "../../../appliance/server/routes/services.js";
import { CairnServer } from "../../../appliance/server/server.js";
import { StandInAccess } from "./stand-in-access.js";

export interface TestServer {
  server: CairnServer;
  port: number;
  root: string;
  configDir: string;
  stateDir: string;
  access: RequestAccess;
  stop(): Promise<void>;
}

/** A server on 127.0.0.1 with an ephemeral port, its config and state in a fresh temp dir. */
export async function startTestServer(
  options: {
    access?: RequestAccess;
    logger?: Logger;
    maxJsonBodyBytes?: number;
    extraRoutes?: (services: ServerServices) => Route[];
    /** Replaces the system routes (disks, network) run with the real commands. */
    systemRoutes?: (services: ServerServices) => Route[];
    root?: string;
    host?: string;
  } = {},
): Promise<TestServer> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), "cairn-server-")));
  const configDir = join(root, "config");
  const stateDir = join(root, "state");
  const access = options.access ?? new StandInAccess();
  const server = await CairnServer.start({
    configDir,
    stateDir,
    host: options.host ?? "127.0.0.1",
    port: 0,
    access,
    logger: options.logger ?? silentLogger(),
    certificate: { rsaBits: 2048 },
    nodeName: "testnode",
    ...(options.maxJsonBodyBytes !== undefined && { maxJsonBodyBytes: options.maxJsonBodyBytes }),
    ...(options.extraRoutes && { extraRoutes: options.extraRoutes }),
    ...(options.systemRoutes && { systemRoutes: options.systemRoutes }),
  });
  return {
    server,
    port: server.port,
    root,
    configDir,
    stateDir,
    access,
    stop: async () => {
      await server.stop(1000);
      if (!options.root) await rm(root, { recursive: true, force: true });
    },
  };
}
