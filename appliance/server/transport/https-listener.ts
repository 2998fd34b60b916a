import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { Logger } from "pino";
import type { PemPair } from "../tls/self-signed.js";
import { readFirstRequestHead } from "./first-request.js";
import { createRedirectServer } from "./redirect-server.js";
import { parseRequestHead } from "./request-head.js";
import type { UpgradeRegistry } from "./upgrades.js";

/** The first byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16;

export interface ListenerOptions {
  /** `::` listens dual-stack on every address. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  credentials: PemPair;
  onRequest: http.RequestListener;
  upgrades: UpgradeRegistry;
  logger: Logger;
  /** How long a new connection may stay silent (first byte, TLS handshake, first head). */
  idleTimeoutMs?: number;
  maxHeadBytes?: number;
}

/** TLS 1.3 only: a TLS 1.2 client handshake fails with a protocol-version alert. */
export function tlsContextOptions(credentials: PemPair): tls.SecureContextOptions {
  return {
    cert: credentials.certPem,
    key: credentials.keyPem,
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
  };
}

/**
 * One TCP port for everything (pbs-formats.md §14): the first byte tells a TLS handshake from
 * plain HTTP, which is redirected to HTTPS. Over TLS, the first request of a connection is
 * inspected: a backup/reader upgrade goes to the upgrade registry (with or without
 * `Connection: upgrade`), everything else to Node's HTTP/1.1 server.
 */
export class HttpsListener {
  readonly #tcp: net.Server;
  readonly #tls: tls.Server;
  readonly #http: http.Server;
  readonly #redirect: http.Server;
  readonly #sockets = new Set<net.Socket>();
  /** Answers still being written per connection: an upgrade waits for them (pipelining). */
  readonly #inFlight = new WeakMap<object, { count: number; settled: (() => void)[] }>();
  readonly #idleTimeoutMs: number;
  readonly #maxHeadBytes: number;
  #port = 0;

  constructor(private readonly options: ListenerOptions) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.#maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
    this.#tls = this.#createTlsServer();
    this.#http = this.#createHttpServer();
    this.#redirect = createRedirectServer(() => this.#port);
    // Connection tracking and the header/request timeouts start on 'listening'; these servers
    // never listen themselves (they are fed sockets), so they are told.
    this.#http.emit("listening");
    this.#redirect.emit("listening");
    this.#tcp = net.createServer({ keepAlive: true, keepAliveInitialDelay: 120_000 }, (socket) =>
      this.#onConnection(socket),
    );
    this.#tcp.on("error", (err) => options.logger.error({ err }, "listener error"));
  }

  #createTlsServer(): tls.Server {
    const server = tls.createServer({
      ...tlsContextOptions(this.options.credentials),
      handshakeTimeout: this.#idleTimeoutMs,
    });
    server.on("secureConnection", (socket) => {
      this.#onSecure(socket).catch((err: unknown) => this.#failed(socket, err));
    });
    server.on("tlsClientError", (err, socket) => {
      this.options.logger.debug(
        { err: err.message, remote: socket.remoteAddress },
        "TLS handshake failed",
      );
    });
    return server;
  }

  /** HTTP/1.1 over the TLS sockets: the API, and upgrades on later requests of a connection. */
  #createHttpServer(): http.Server {
    const { upgrades, onRequest } = this.options;
    const server = http.createServer({ maxHeaderSize: this.#maxHeadBytes }, (request, response) => {
      this.#track(request.socket, response);
      if (!upgrades.refusePlainRequest(request, response)) onRequest(request, response);
    });
    server.on("upgrade", (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const requestHead = {
        method: request.method ?? "",
        url: request.url ?? "",
        httpVersion: request.httpVersion,
        headers: request.headers,
        remoteAddress: socket.remoteAddress ?? "",
      };
      this.#settled(socket)
        .then(() => upgrades.handle(requestHead, socket, head))
        .catch((err: unknown) => this.#failed(socket, err));
    });
    server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const status =
        err.code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    return server;
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#tcp.once("error", reject);
      this.#tcp.listen({ host: this.options.host, port: this.options.port }, () => {
        this.#tcp.off("error", reject);
        resolve();
      });
    });
    this.#port = (this.#tcp.address() as net.AddressInfo).port;
    return this.#port;
  }

  /** Takes a new certificate for the following handshakes; open connections keep theirs. */
  setCredentials(credentials: PemPair): void {
    this.#tls.setSecureContext(tlsContextOptions(credentials));
  }

  /**
   * Stops accepting, lets idle keep-alive connections go, and after `graceMs` destroys whatever
   * is still open.
   */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    this.#http.closeIdleConnections();
    this.options.upgrades.closeSessions();
    const deadline = setTimeout(() => {
      this.options.upgrades.destroySessions();
      for (const socket of this.#sockets) socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(deadline);
    this.#http.close(() => {});
    this.#redirect.close(() => {});
  }

  #track(socket: object, response: http.ServerResponse): void {
    const entry = this.#inFlight.get(socket) ?? { count: 0, settled: [] };
    this.#inFlight.set(socket, entry);
    entry.count++;
    response.once("close", () => {
      entry.count--;
      if (entry.count === 0) for (const resolve of entry.settled.splice(0)) resolve();
    });
  }

  /** Resolves once every earlier answer on the connection is written out. */
  #settled(socket: object): Promise<void> {
    const entry = this.#inFlight.get(socket);
    if (entry === undefined || entry.count === 0) return Promise.resolve();
    return new Promise((resolve) => entry.settled.push(resolve));
  }

  #onConnection(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.on("error", (err) =>
      this.options.logger.debug({ err: err.message }, "connection error"),
    );
    socket.setTimeout(this.#idleTimeoutMs, () => socket.destroy());
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      socket.setTimeout(0);
      if (first[0] === TLS_HANDSHAKE) {
        this.#tls.emit("connection", socket);
      } else {
        this.#redirect.emit("connection", socket);
        socket.resume();
      }
    });
  }

  /** A bug in connection handling costs that connection, never the process. */
  #failed(socket: { destroy(): void }, err: unknown): void {
    this.options.logger.error({ err }, "connection handling failed");
    socket.destroy();
  }

  async #onSecure(socket: tls.TLSSocket): Promise<void> {
    socket.on("error", (err) =>
      this.options.logger.debug({ err: err.message }, "TLS connection error"),
    );
    const first = await readFirstRequestHead(socket, this.#maxHeadBytes, this.#idleTimeoutMs);
    if (first.kind === "gone") {
      socket.destroy();
      return;
    }
    if (first.kind === "too-large") {
      socket.end(
        "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      );
      return;
    }
    const text = first.bytes.subarray(0, first.headLength - 4).toString("latin1");
    const head = /\r\nupgrade:/i.test(text)
      ? parseRequestHead(text, socket.remoteAddress ?? "")
      : undefined;
    if (head && this.options.upgrades.claims(head)) {
      await this.options.upgrades.handle(head, socket, first.bytes.subarray(first.headLength));
      return;
    }
    socket.unshift(first.bytes);
    this.#http.emit("connection", socket);
    socket.resume();
  }
}
