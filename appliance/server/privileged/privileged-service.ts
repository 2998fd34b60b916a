import { chmod, chown, stat, unlink } from "node:fs/promises";
import http from "node:http";
import { join } from "node:path";
import type { Logger } from "pino";
import { type CommandRunner, execaRunner } from "../../system/index.js";
import { ApiError } from "../api/api-errors.js";
import { createApiDispatcher } from "../api/dispatcher.js";
import { RouteTable } from "../api/route-table.js";
import { datastoreConfigFile } from "../config/datastore-config.js";
import { DatastoreRegistry } from "../datastore-registry.js";
import { listenPrivately, prepareSocketPath } from "../local-api-socket.js";
import type { RequestAccess } from "../request-access.js";
import type { CertificateControl, ServerServices } from "../routes/services.js";
import { type SystemRouteOptions, systemRoutes } from "../routes/system.js";
import type { FileOwner } from "../tasks/file-owner.js";
import { TaskManager } from "../tasks/task-manager.js";

/** Where the appliance's privileged service listens. */
export const DEFAULT_PRIVILEGED_SOCKET = "/run/cairn/privileged.sock";

/** Owner read/write, group read/write: root and the public daemon's group may connect. */
const SOCKET_MODE = 0o660;

export interface PrivilegedServiceOptions {
  socketPath: string;
  /** The group that may connect (the public daemon's); default: the state directory's group. */
  socketGroup?: number;
  /** The public daemon's config directory: users, tokens, ACL, ticket keys. */
  configDir: string;
  /** The public daemon's state directory: the tasks it runs are logged beside the daemon's. */
  stateDir: string;
  /** Authenticates every request again from its forwarded credentials. */
  access: RequestAccess;
  logger: Logger;
  /** Default: the real programs. */
  runner?: CommandRunner;
  /** Node name in UPIDs (default: the host name). */
  nodeName?: string;
  /** Passed to the system routes (mount root, configuration root). */
  system?: Omit<SystemRouteOptions, "runner">;
}

/** The certificate routes are not served here; nothing asks for these. */
const noCertificates: CertificateControl = {
  info: () => Promise.reject(new ApiError("not-found", "no certificates here")),
  install: () => Promise.reject(new ApiError("not-found", "no certificates here")),
  regenerate: () => Promise.reject(new ApiError("not-found", "no certificates here")),
};

/**
 * The privileged half of the appliance, run as root: the system routes (disks, ZFS, network, DNS,
 * time) as plain HTTP/1.1 on a Unix socket only. Unlike the admin socket it trusts no caller:
 * every request is authenticated again from the credentials the public daemon forwarded and its
 * permission checked again, so a local process that can reach the socket gains nothing.
 */
export class PrivilegedService {
  private constructor(
    readonly socketPath: string,
    readonly services: ServerServices,
    private readonly server: http.Server,
  ) {}

  get tasks(): TaskManager {
    return this.services.tasks;
  }

  static async start(options: PrivilegedServiceOptions): Promise<PrivilegedService> {
    const logger = options.logger.child({ listener: "privileged" });
    const stateDir = await stat(options.stateDir);
    const owner = fileOwner(stateDir);
    const tasks = new TaskManager(join(options.stateDir, "tasks"), logger, options.nodeName, owner);
    await tasks.recover();
    const services: ServerServices = {
      access: options.access,
      datastores: new DatastoreRegistry(datastoreConfigFile(options.configDir)),
      tasks,
      certificates: noCertificates,
      logger,
    };
    const table = new RouteTable(
      systemRoutes(services, {
        ...options.system,
        runner: options.runner ?? execaRunner,
        ...(owner !== undefined && { datastoreOwner: owner }),
      }),
    );
    const server = http.createServer(
      createApiDispatcher({ table, access: options.access, logger }),
    );
    const path = options.socketPath;
    await prepareSocketPath(path, { name: "privileged socket", elsewhere: "socket path" });
    await listenPrivately(server, path);
    try {
      await openToGroup(path, options.socketGroup ?? stateDir.gid);
    } catch (err) {
      await new Promise((resolve) => server.close(resolve));
      throw err;
    }
    logger.info({ socket: path }, "privileged service listening");
    return new PrivilegedService(path, services, server);
  }

  /** Stops accepting, lets running requests and tasks finish for up to `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await Promise.all([closed, this.tasks.shutdown(graceMs)]);
    clearTimeout(deadline);
    await unlink(this.socketPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

/** As root, files written into the daemon's state directory go to its owner. */
function fileOwner(dir: { uid: number; gid: number }): FileOwner | undefined {
  return process.getuid?.() === 0 ? { uid: dir.uid, gid: dir.gid } : undefined;
}

/** The socket is bound 0600; only then does the daemon's group get in. */
async function openToGroup(path: string, gid: number): Promise<void> {
  if (gid !== process.getgid?.()) await chown(path, process.getuid?.() ?? -1, gid);
  await chmod(path, SOCKET_MODE);
}
