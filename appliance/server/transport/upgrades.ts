import type { IncomingMessage, ServerResponse } from "node:http";
import http2, { type ServerHttp2Session } from "node:http2";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { z } from "zod";
import { ApiError } from "../api/api-errors.js";
import { API_PREFIX, statusText } from "../api/dispatcher.js";
import { fieldsOf, validateParameters } from "../api/parameters.js";
import type { AuthInfo, RoutePermission } from "../api/route.js";
import { enforcePermission, type RequestAccess } from "../request-access.js";
import { pathOf, type RequestHead } from "./request-head.js";

const MiB = 1024 * 1024;

/** PBS's server side of the session: 32 MiB windows, 4 MiB frames. */
export const DEFAULT_HTTP2_SETTINGS: http2.Settings = {
  initialWindowSize: 32 * MiB,
  maxFrameSize: 4 * MiB,
  // the client pipelines 8 uploads; the cap keeps one client from opening streams without bound
  maxConcurrentStreams: 64,
};
/** A session with no frame in either direction for this long is closed (its backup aborted). */
export const DEFAULT_SESSION_IDLE_MS = 15 * 60 * 1000;
const DEFAULT_CONNECTION_WINDOW = 32 * MiB;
/** Room for a full window of pipelined uploads per session, in MB as Node counts it. */
const DEFAULT_SESSION_MEMORY_MB = 256;

/** What an accepted upgrade continues with once the 101 is sent and HTTP/2 is up. */
export interface UpgradeSession {
  serve(session: ServerHttp2Session): void;
  /** The connection failed between accept and serve: release whatever accept took. */
  abandon?(error: Error): void;
}

export interface UpgradeRequest<P> {
  params: P;
  auth: AuthInfo;
  head: RequestHead;
}

/**
 * A protocol reached by `GET /api2/json<path>` with `Upgrade: <protocol>`. `accept` checks and
 * prepares (locks, writers) and throws a CairnError to refuse with an HTTP/1.1 error answer.
 */
export interface UpgradeProtocol<S extends z.ZodType = z.ZodType> {
  /** The exact value of the Upgrade header, e.g. `proxmox-backup-protocol-v1`. */
  protocol: string;
  /** Below `/api2/json`, e.g. `/backup`. */
  path: string;
  description: string;
  /** The query parameters, validated like a route's. */
  parameters: S;
  permission: RoutePermission;
  accept(request: UpgradeRequest<z.infer<S>>): Promise<UpgradeSession>;
  http2?: { settings?: http2.Settings; connectionWindow?: number; maxSessionMemoryMb?: number };
}

/** Declares an upgrade protocol with its parameter type inferred from the schema. */
export function defineUpgrade<S extends z.ZodType>(
  protocol: UpgradeProtocol<S>,
): UpgradeProtocol<S> {
  return protocol;
}

/**
 * The HTTP/1.1 → HTTP/2 upgrades of the backup and reader protocols (pbs-formats.md §8): checks
 * the request, authenticates, lets the protocol accept, answers `101 Switching Protocols` and runs
 * HTTP/2 on the same TLS connection.
 */
export class UpgradeRegistry {
  readonly #protocols = new Map<string, UpgradeProtocol>();
  readonly #sessions = new Set<ServerHttp2Session>();

  readonly #idleMs: number;

  constructor(
    private readonly access: RequestAccess,
    private readonly logger: Logger,
    options: { sessionIdleMs?: number } = {},
  ) {
    this.#idleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  }

  register<S extends z.ZodType>(protocol: UpgradeProtocol<S>): void {
    const path = `${API_PREFIX}${protocol.path}`;
    if (this.#protocols.has(path)) throw new Error(`an upgrade is already registered at ${path}`);
    this.#protocols.set(path, protocol as unknown as UpgradeProtocol);
  }

  get protocols(): readonly UpgradeProtocol[] {
    return [...this.#protocols.values()];
  }

  /** Whether a request head is meant for one of the protocols (and should not reach the API). */
  claims(head: RequestHead): boolean {
    return head.headers.upgrade !== undefined && this.#protocols.has(pathOf(head.url));
  }

  /** An upgrade path asked without an upgrade Node could see: explain instead of a bare 404. */
  refusePlainRequest(request: IncomingMessage, response: ServerResponse): boolean {
    const protocol = this.#protocols.get(pathOf(request.url ?? ""));
    if (!protocol) return false;
    const body = JSON.stringify({
      data: null,
      message: `${protocol.path} needs 'Upgrade: ${protocol.protocol}' with 'Connection: upgrade', or as the first request of a connection`,
    });
    response.writeHead(400, { "Content-Type": "application/json;charset=UTF-8" });
    response.end(body);
    return true;
  }

  /** Answers the upgrade request on `socket`; `buffered` are bytes read past the head. */
  async handle(head: RequestHead, socket: Duplex, buffered: Buffer): Promise<void> {
    let accepted: UpgradeSession;
    try {
      accepted = await this.#accept(head);
    } catch (err) {
      this.#refuse(socket, err, head);
      return;
    }
    if (socket.destroyed) {
      accepted.abandon?.(new Error("the client closed the connection before the upgrade"));
      return;
    }
    const protocol = this.#protocols.get(pathOf(head.url))!;
    // an HTTP/1.1 keep-alive timeout must not cut a long backup session
    (socket as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(0);
    const answer = `HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: ${protocol.protocol}\r\n\r\n`;
    // HTTP/2 may take the socket only once the 101 is written out.
    socket.write(answer, (writeError) => {
      if (writeError) {
        accepted.abandon?.(writeError);
        socket.destroy();
        return;
      }
      try {
        if (buffered.length > 0) socket.unshift(buffered);
        accepted.serve(this.#startHttp2(socket, protocol));
      } catch (err) {
        this.logger.error({ err, path: protocol.path }, "upgrade failed after 101");
        accepted.abandon?.(err as Error);
        socket.destroy();
      }
    });
  }

  async #accept(head: RequestHead): Promise<UpgradeSession> {
    const path = pathOf(head.url);
    const protocol = this.#protocols.get(path);
    if (!protocol) throw new ApiError("not-found", `no upgrade protocol at ${path}`);
    if (head.method !== "GET") {
      throw new ApiError("method-not-allowed", `${protocol.path} takes GET only`);
    }
    if (head.headers.upgrade !== protocol.protocol) {
      throw new ApiError(
        "bad-request",
        `${protocol.path} needs 'Upgrade: ${protocol.protocol}', got ${JSON.stringify(head.headers.upgrade ?? "")}`,
      );
    }
    const auth = (await this.access.authenticate(head)) ?? undefined;
    if (auth === undefined) throw new ApiError("unauthenticated", "authentication required");
    const query = head.url.slice(path.length + 1);
    const params = validateParameters(protocol.parameters, fieldsOf(new URLSearchParams(query)));
    await enforcePermission(
      this.access,
      auth,
      protocol.permission,
      params as Record<string, unknown>,
    );
    return protocol.accept({ params, auth, head });
  }

  #startHttp2(socket: Duplex, protocol: UpgradeProtocol): ServerHttp2Session {
    const options = protocol.http2 ?? {};
    const session = http2.performServerHandshake(socket, {
      settings: { ...DEFAULT_HTTP2_SETTINGS, ...options.settings },
      maxSessionMemory: options.maxSessionMemoryMb ?? DEFAULT_SESSION_MEMORY_MB,
    });
    session.setLocalWindowSize(options.connectionWindow ?? DEFAULT_CONNECTION_WINDOW);
    session.on("error", (err) =>
      this.logger.warn({ err, path: protocol.path }, "http2 session error"),
    );
    // a silent client must not hold its group's lock (and the snapshot dir) forever
    session.setTimeout(this.#idleMs, () => {
      this.logger.warn({ path: protocol.path, idleMs: this.#idleMs }, "idle session closed");
      session.destroy(new Error(`no traffic for ${this.#idleMs} ms`));
    });
    this.#sessions.add(session);
    session.once("close", () => this.#sessions.delete(session));
    return session;
  }

  #refuse(socket: Duplex, err: unknown, head: RequestHead): void {
    const failure = err as { httpStatus?: unknown; message?: unknown };
    const known = typeof failure.httpStatus === "number" && failure.httpStatus >= 400;
    const status = known ? (failure.httpStatus as number) : 500;
    if (!known) this.logger.error({ err, url: pathOf(head.url) }, "upgrade failed");
    const message = known ? String(failure.message) : "internal server error";
    const errors = (err as { context?: { errors?: unknown } }).context?.errors;
    const body = JSON.stringify({ data: null, message, ...(errors !== undefined && { errors }) });
    const reason = status < 500 ? statusText(message) || "Error" : "Internal Server Error";
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json;charset=UTF-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  /** Asks every running session to finish (GOAWAY); streams in flight may complete. */
  closeSessions(): void {
    for (const session of this.#sessions) session.close();
  }

  /** Tears down sessions that did not finish in time. */
  destroySessions(): void {
    for (const session of this.#sessions) session.destroy();
  }

  get activeSessions(): number {
    return this.#sessions.size;
  }
}
