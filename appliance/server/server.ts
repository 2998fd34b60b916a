import { join } from "node:path";
import type { Logger } from "pino";
import type { z } from "zod";
import { createApiDispatcher } from "./api/dispatcher.js";
import type { Route } from "./api/route.js";
import { RouteTable } from "./api/route-table.js";
import { datastoreConfigFile } from "./config/datastore-config.js";
import { DatastoreRegistry } from "./datastore-registry.js";
import { LocalApiSocket } from "./local-api-socket.js";
import type { RequestAccess } from "./request-access.js";
import { verifyNewSnapshots } from "./routes/datastore/verify-new.js";
import { serverRoutes } from "./routes/index.js";
import type { ServerServices } from "./routes/services.js";
import { TaskManager } from "./tasks/task-manager.js";
import { certificateControl } from "./tls/certificate-control.js";
import { ensureCertificate } from "./tls/certificate-files.js";
import { type CertificateInfo, describeCertificate } from "./tls/certificate-info.js";
import type { SelfSignedOptions } from "./tls/self-signed.js";
import { HttpsListener } from "./transport/https-listener.js";
import { type UpgradeProtocol, UpgradeRegistry } from "./transport/upgrades.js";

export const DEFAULT_PORT = 8007;

export interface ServerOptions {
  configDir: string;
  /** Task logs and index. */
  stateDir: string;
  /** Default `::` (every address, IPv4 and IPv6). */
  host?: string;
  /** Default 8007; 0 picks a free port. */
  port?: number;
  access: RequestAccess;
  logger: Logger;
  /** Routes defined elsewhere, e.g. the access routes of the auth module. */
  extraRoutes?: (services: ServerServices) => Route[];
  /**
   * The root-only routes (disks, network): by default run here with the real commands; a
   * forwarder to the privileged service, or a recording runner in tests, replaces them.
   */
  systemRoutes?: (services: ServerServices) => Route[];
  /** How a first-start self-signed certificate is made. */
  certificate?: SelfSignedOptions;
  maxJsonBodyBytes?: number;
  /** Node name in UPIDs (default: the host name). */
  nodeName?: string;
  /** Milliseconds a backup or reader session may stay silent before it is closed. */
  sessionIdleMs?: number;
  /** Also serve the API on this Unix socket, every caller as root@pam (`cairn-manager`). */
  localApiSocket?: string;
}

/**
 * The Cairn server: one HTTPS port with the REST API under `/api2/json`, the backup/reader
 * upgrades, worker tasks and the datastore configuration, over a config and a state directory.
 */
export class CairnServer {
  private constructor(
    readonly services: ServerServices,
    readonly routes: RouteTable,
    readonly upgrades: UpgradeRegistry,
    readonly listener: HttpsListener,
    /** The certificate in use when the server started; `certificateCreated` on first start. */
    readonly certificate: CertificateInfo,
    readonly certificateCreated: boolean,
    private readonly localApi: LocalApiSocket | undefined,
  ) {}

  static async start(options: ServerOptions): Promise<CairnServer> {
    const { logger } = options;
    const { pair, created } = await ensureCertificate(options.configDir, options.certificate);
    const tasks = new TaskManager(join(options.stateDir, "tasks"), logger, options.nodeName);
    await tasks.recover();
    let listener: HttpsListener | undefined;
    const certificates = certificateControl(
      options.configDir,
      options.certificate,
      (next) => listener?.setCredentials(next),
      logger,
    );
    const services: ServerServices = {
      access: options.access,
      datastores: new DatastoreRegistry(datastoreConfigFile(options.configDir)),
      tasks,
      certificates,
      logger,
    };
    services.backupFinished = verifyNewSnapshots(services);
    const routes = new RouteTable([
      ...serverRoutes(services, options.systemRoutes?.(services)),
      ...(options.extraRoutes?.(services) ?? []),
    ]);
    const upgrades = new UpgradeRegistry(options.access, logger, {
      ...(options.sessionIdleMs !== undefined && { sessionIdleMs: options.sessionIdleMs }),
    });
    listener = new HttpsListener({
      host: options.host ?? "::",
      port: options.port ?? DEFAULT_PORT,
      credentials: pair,
      onRequest: createApiDispatcher({
        table: routes,
        access: options.access,
        logger,
        ...(options.maxJsonBodyBytes !== undefined && {
          maxJsonBodyBytes: options.maxJsonBodyBytes,
        }),
      }),
      upgrades,
      logger,
    });
    const localApi = options.localApiSocket
      ? await LocalApiSocket.start({
          path: options.localApiSocket,
          table: routes,
          access: options.access,
          logger,
        })
      : undefined;
    await listener.start().catch(async (err: unknown) => {
      await localApi?.close(0);
      throw err;
    });
    const info = describeCertificate(pair.certPem, join(options.configDir, "proxy.pem"));
    logger.info({ port: listener.port, fingerprint: info.fingerprint }, "listening");
    return new CairnServer(services, routes, upgrades, listener, info, created, localApi);
  }

  get port(): number {
    return this.listener.port;
  }

  get tasks(): TaskManager {
    return this.services.tasks;
  }

  get datastores(): DatastoreRegistry {
    return this.services.datastores;
  }

  /** Plugs a protocol (backup, reader) into `GET /api2/json<path>` with its Upgrade header. */
  registerUpgrade<S extends z.ZodType>(protocol: UpgradeProtocol<S>): void {
    this.upgrades.register(protocol);
  }

  /**
   * Stops accepting connections, asks running tasks and sessions to end, and after `graceMs`
   * cuts whatever is left.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.services.logger.info("shutting down");
    await Promise.all([
      this.listener.close(graceMs),
      this.localApi?.close(graceMs),
      this.tasks.shutdown(graceMs),
    ]);
  }
}
