import http, { type IncomingMessage } from "node:http";
import http2, { type ClientHttp2Session } from "node:http2";
import type { Duplex } from "node:stream";
import { ProtocolError } from "../errors.js";
import { connectTls, type ServerTrust } from "./tls-connect.js";

/** What PBS's client announces: windows of 2^31 − 2, frames of 4 MiB. */
const WINDOW = 2 ** 31 - 2;
const MAX_FRAME = 4 * 1024 * 1024;
/** Pipelined uploads queue whole chunks for sending; Node counts them against this (MB). */
const SESSION_MEMORY_MB = 1024;
/** Largest error or refusal body read from an upgrade answer. */
const MAX_REFUSAL_BYTES = 64 * 1024;

export type ClientCredentials =
  /** From `POST /access/ticket`; the CSRF token is sent too, as PBS's client does. */
  | { kind: "ticket"; ticket: string; csrfToken?: string }
  /** `user@realm!name` and its secret. */
  | { kind: "token"; tokenId: string; secret: string };

export interface ServerAddress {
  host: string;
  /** Default 8007. */
  port?: number;
  credentials: ClientCredentials;
  trust?: ServerTrust;
  /** Default 10 s, as PBS's client. */
  connectTimeoutMs?: number;
}

export type QueryValues = Record<string, string | number | boolean | undefined>;

export function queryString(values: QueryValues): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) search.set(key, String(value));
  }
  return search.toString();
}

export function authHeaders(credentials: ClientCredentials): Record<string, string> {
  if (credentials.kind === "token") {
    return { Authorization: `PBSAPIToken=${credentials.tokenId}:${credentials.secret}` };
  }
  return {
    Cookie: `PBSAuthCookie=${encodeURIComponent(credentials.ticket)}`,
    ...(credentials.csrfToken !== undefined && { CSRFPreventionToken: credentials.csrfToken }),
  };
}

/**
 * Opens a protocol session: TLS, `GET /api2/json<path>?…` with `Upgrade: <protocol>` and the
 * credentials, `101 Switching Protocols`, then HTTP/2 on the same connection. A refusal is a
 * `remote-error` with the server's status and message.
 */
export async function openUpgradedSession(
  address: ServerAddress,
  protocol: { id: string; path: string },
  query: QueryValues,
): Promise<ClientHttp2Session> {
  const port = address.port ?? 8007;
  const socket = await connectTls(address.host, port, address.trust, address.connectTimeoutMs);
  const upgraded = await new Promise<Duplex>((resolve, reject) => {
    const request = http.request({
      method: "GET",
      host: address.host,
      port,
      path: `/api2/json${protocol.path}?${queryString(query)}`,
      headers: {
        Connection: "upgrade",
        Upgrade: protocol.id,
        ...authHeaders(address.credentials),
      },
      createConnection: () => socket,
    });
    request.once("upgrade", (response: IncomingMessage, stream: Duplex, head: Buffer) => {
      if (response.headers.upgrade !== protocol.id) {
        stream.destroy();
        reject(
          new ProtocolError(
            "connection-failed",
            `server upgraded to ${JSON.stringify(response.headers.upgrade)}, not ${protocol.id}`,
          ),
        );
        return;
      }
      if (head.length > 0) stream.unshift(head);
      resolve(stream);
    });
    request.once("response", (response: IncomingMessage) => {
      readRefusal(response).catch((err: unknown) => {
        socket.destroy();
        reject(err);
      });
    });
    request.once("error", (err) => {
      reject(new ProtocolError("connection-failed", `upgrade request failed: ${err.message}`));
    });
    request.end();
  });
  return startHttp2(upgraded, `${address.host}:${port}`);
}

function startHttp2(socket: Duplex, authority: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${authority}`, {
      createConnection: () => socket,
      settings: { initialWindowSize: WINDOW, maxFrameSize: MAX_FRAME },
      maxSessionMemory: SESSION_MEMORY_MB,
    });
    const onError = (err: Error) =>
      reject(new ProtocolError("connection-failed", `HTTP/2 start failed: ${err.message}`));
    session.once("error", onError);
    session.once("connect", () => {
      session.off("error", onError);
      session.on("error", () => {}); // surfaced by the requests in flight
      session.setLocalWindowSize(WINDOW);
      resolve(session);
    });
  });
}

/** The server's refusal of the upgrade as an error with its status and message. */
async function readRefusal(response: IncomingMessage): Promise<never> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of response) {
    length += (chunk as Buffer).length;
    if (length > MAX_REFUSAL_BYTES) break;
    parts.push(chunk as Buffer);
  }
  const text = Buffer.concat(parts).toString("utf8");
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") message = parsed.message;
  } catch {}
  const status = response.statusCode ?? 502;
  throw new ProtocolError(
    "remote-error",
    `server refused the session (${status}): ${message.trim() || response.statusMessage}`,
    { status },
    status,
  );
}
