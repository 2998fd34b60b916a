import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { PoolHealthWatcher, watchPoolHealth } from "../jobs/notifications/pool-health.js";
import { backupUpgrade, readerUpgrade } from "../protocol/index.js";
import { detectZfsCapabilities, execaRunner, Zpool } from "../system/index.js";
import { AccessControl } from "./auth/access-control.js";
import { datastoreConfigFile } from "./config/datastore-config.js";
import { DatastoreRegistry } from "./datastore-registry.js";
import { embeddedLayout, prepareEmbedded } from "./embedded.js";
import { localApiSocketPath } from "./local-api-socket.js";
import { forwardingSystemRoutes } from "./privileged/forwarding-routes.js";
import { accessRoutes } from "./routes/access.js";
import { createJobs, type Jobs } from "./routes/jobs-setup.js";
import { CairnServer } from "./server.js";

export interface DaemonOptions {
  configDir: string;
  stateDir: string;
  host: string;
  port: number;
  logger: Logger;
  /** Embedded mode: this folder holds config, state and the datastore `store1`. */
  embeddedDir?: string;
  /** Where the human-readable start banner goes (credentials, URL, fingerprint). */
  print: (line: string) => void;
  /** Milliseconds running tasks and sessions get to finish on SIGTERM. */
  graceMs?: number;
  /** Forward the system routes (disks, network) to the privileged service on this socket. */
  privilegedSocket?: string;
}

/** The URL to show: a bound address as is, the wildcard as this host's name. */
function displayHost(host: string): string {
  if (host === "::" || host === "0.0.0.0") return hostname();
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Runs the server until SIGTERM or SIGINT, then shuts down gracefully; a second signal exits at
 * once. Resolves when the server has stopped.
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const dirs = options.embeddedDir
    ? embeddedLayout(options.embeddedDir)
    : { configDir: options.configDir, stateDir: options.stateDir };
  await mkdir(dirs.configDir, { recursive: true, mode: 0o700 });
  await mkdir(dirs.stateDir, { recursive: true, mode: 0o700 });
  const access = await AccessControl.open(dirs.configDir);
  const setup = options.embeddedDir
    ? await prepareEmbedded(
        options.embeddedDir,
        access,
        new DatastoreRegistry(datastoreConfigFile(dirs.configDir)),
      )
    : undefined;
  let jobs: Jobs | undefined;
  const { privilegedSocket } = options;
  const server = await CairnServer.start({
    configDir: dirs.configDir,
    stateDir: dirs.stateDir,
    host: options.host,
    port: options.port,
    access,
    logger: options.logger,
    extraRoutes: (services) => {
      jobs = createJobs(services, { configDir: dirs.configDir, stateDir: dirs.stateDir });
      return [...accessRoutes(access), ...jobs.routes];
    },
    localApiSocket: localApiSocketPath(dirs.stateDir),
    ...(privilegedSocket !== undefined && {
      systemRoutes: (services) => forwardingSystemRoutes(services, privilegedSocket),
    }),
  });
  server.registerUpgrade(backupUpgrade(server.services));
  server.registerUpgrade(readerUpgrade(server.services));
  jobs?.scheduler.start();
  const poolWatch = jobs && watchPools(jobs, options.logger);
  const { print } = options;
  const host = displayHost(options.host);
  if (server.certificateCreated) print("created a self-signed TLS certificate");
  print(`fingerprint: ${server.certificate.fingerprint}`);
  print(`listening on https://${host}:${server.port}/`);
  if (options.embeddedDir && setup) {
    if (setup.storeCreated)
      print(`created datastore store1 in ${embeddedLayout(options.embeddedDir).storePath}`);
    if (setup.credentials) {
      print(
        `user ${setup.credentials.userid}, password ${setup.credentials.password} (shown only now)`,
      );
    }
    print(`repository: root@pam@${host}:${server.port}:store1`);
  }

  // a stray rejection is a bug to log, not a reason to drop every client
  process.on("unhandledRejection", (err) => options.logger.error({ err }, "unhandled rejection"));
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      options.logger.info({ signal }, "signal received");
      jobs?.scheduler.stop();
      poolWatch?.stop();
      process.once("SIGTERM", () => process.exit(1));
      process.once("SIGINT", () => process.exit(1));
      server
        .stop(options.graceMs)
        .catch((err: unknown) => options.logger.error({ err }, "shutdown failed"))
        .finally(resolve);
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  options.logger.info("stopped");
}

/** Notifies ZFS pool health changes (DEGRADED, FAULTED…) through the job notifier. */
function watchPools(jobs: Jobs, logger: Logger): { stop(): void } {
  let zpool: Zpool | undefined;
  const watcher = new PoolHealthWatcher({
    list: async () => {
      zpool ??= new Zpool(execaRunner, await detectZfsCapabilities(execaRunner));
      return zpool.list();
    },
    notify: (notification) => jobs.notifier.notify(notification),
    hostname: jobs.notifier.hostname,
  });
  return watchPoolHealth(watcher, { onError: (message, err) => logger.info({ err }, message) });
}
