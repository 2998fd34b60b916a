import { lstat, stat, unlink } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { CairnError } from "../errors.js";
import { createApiDispatcher } from "./api/dispatcher.js";
import type { AuthInfo } from "./api/route.js";
import type { RouteTable } from "./api/route-table.js";
import { SUPERUSER_ID } from "./auth/auth-id.js";
import type { RequestAccess } from "./request-access.js";

/** The admin socket's name in the state directory. */
export const LOCAL_API_SOCKET = "api.sock";
/** Linux's sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

export function localApiSocketPath(stateDir: string): string {
  return join(stateDir, LOCAL_API_SOCKET);
}

export type LocalApiSocketErrorKind = "path-too-long" | "unsafe-directory" | "in-use" | "occupied";

/** The admin socket cannot be set up (`CAIRN_E_LOCAL_API_…`). */
export class LocalApiSocketError extends CairnError {
  override name = "LocalApiSocketError";

  constructor(
    readonly kind: LocalApiSocketErrorKind,
    message: string,
    context: Record<string, unknown> = {},
  ) {
    super(`CAIRN_E_LOCAL_API_${kind.toUpperCase().replaceAll("-", "_")}`, message, 500, context);
  }
}

/** How a socket is named in errors, and what to change to pick another path. */
export interface SocketLabel {
  name: string;
  elsewhere: string;
}

const ADMIN_SOCKET: SocketLabel = { name: "admin socket", elsewhere: "state directory" };

const LOCAL_CALLER: AuthInfo = { authId: SUPERUSER_ID, userId: SUPERUSER_ID };

/**
 * Every request on the admin socket acts as root@pam: only the daemon's user can connect, and it
 * owns the configuration anyway. Credentials sent along are ignored.
 */
export function superuserAccess(access: RequestAccess): RequestAccess {
  return {
    authenticate: () => LOCAL_CALLER,
    checkPermission: (auth, permission, params) => access.checkPermission(auth, permission, params),
    ...(access.isActiveAuthId && { isActiveAuthId: (id) => access.isActiveAuthId!(id) }),
  };
}

export interface LocalApiSocketOptions {
  path: string;
  table: RouteTable;
  access: RequestAccess;
  logger: Logger;
}

/**
 * The REST API as plain HTTP/1.1 on a Unix socket, for `cairn-manager` on the same machine.
 *
 * Node cannot read a peer's credentials (SO_PEERCRED), so the file system decides who may
 * connect: connecting needs write permission on the socket, which is created with mode 0600 (bound
 * under umask 0177, so it never exists with a wider mode), and it lives in a directory that no
 * one else may write to, so nobody can put another socket in its place.
 */
export class LocalApiSocket {
  private constructor(
    readonly path: string,
    private readonly server: http.Server,
  ) {}

  static async start(options: LocalApiSocketOptions): Promise<LocalApiSocket> {
    const { path } = options;
    await prepareSocketPath(path, ADMIN_SOCKET);
    const logger = options.logger.child({ listener: "local" });
    const server = http.createServer(
      createApiDispatcher({
        table: options.table,
        access: superuserAccess(options.access),
        logger,
      }),
    );
    await listenPrivately(server, path);
    logger.info({ socket: path }, "admin socket listening");
    return new LocalApiSocket(path, server);
  }

  /** Stops accepting, lets running requests finish for up to `graceMs`, removes the socket. */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const deadline = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(deadline);
    await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

/**
 * Checks that a socket can be bound at `path` safely: short enough, in a directory no one else may
 * write to, and not served by another process (a stale socket file is removed).
 */
export async function prepareSocketPath(path: string, label: SocketLabel): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new LocalApiSocketError(
      "path-too-long",
      `the ${label.name} path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; use a shorter ${label.elsewhere}`,
      { path },
    );
  }
  await refuseUnsafeDirectory(dirname(path), label);
  await removeStaleSocket(path, label);
}

async function refuseUnsafeDirectory(dir: string, label: SocketLabel): Promise<void> {
  const info = await stat(dir);
  if ((info.mode & 0o022) !== 0) {
    throw new LocalApiSocketError(
      "unsafe-directory",
      `${dir} is writable by other users, who could replace the ${label.name}; make it 0700 (chmod go-w ${dir})`,
      { dir },
    );
  }
}

/** A socket left behind by a crashed daemon goes; one that still answers means a second daemon. */
async function removeStaleSocket(path: string, label: SocketLabel): Promise<void> {
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (!info.isSocket()) {
    throw new LocalApiSocketError("occupied", `${path} exists and is not a socket; remove it`, {
      path,
    });
  }
  if (await answers(path)) {
    throw new LocalApiSocketError(
      "in-use",
      `another cairn-server already serves ${path}; stop it or use another ${label.elsewhere}`,
      { path },
    );
  }
  await unlink(path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Binds `server` to `path`; the socket file is created with mode 0600. */
export function listenPrivately(server: http.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // bind() runs synchronously inside listen(), so only the socket file gets this umask
    const previous = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
}
