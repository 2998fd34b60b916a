import type { IncomingHttpHeaders } from "node:http";
import https from "node:https";
import tls from "node:tls";

export interface ApiResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests navigate answers freely and assert on them
  json: any;
  /** SHA-256 fingerprint of the server certificate, colon hex, lowercase. */
  fingerprint: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  /** Only for a refused handshake test: the TLS version range of the client. */
  maxVersion?: tls.SecureVersion;
}

/** One HTTPS request on a fresh TLS 1.3 connection that trusts any certificate. */
export function api(
  port: number,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<ApiResponse> {
  const body =
    options.body === undefined
      ? undefined
      : Buffer.isBuffer(options.body) || typeof options.body === "string"
        ? Buffer.from(options.body as string)
        : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined && typeof options.body === "object" && !Buffer.isBuffer(options.body)) {
    headers["content-type"] ??= "application/json";
  }
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers,
        agent: false,
        rejectUnauthorized: false,
        minVersion: "TLSv1.2",
        maxVersion: options.maxVersion ?? "TLSv1.3",
      },
      (response) => {
        const socket = response.socket as tls.TLSSocket;
        const fingerprint = socket.getPeerCertificate().fingerprint256?.toLowerCase() ?? "";
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const data = Buffer.concat(chunks);
          let json: unknown;
          try {
            json = JSON.parse(data.toString("utf8"));
          } catch {
            json = undefined;
          }
          resolve({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? "",
            headers: response.headers,
            body: data,
            json,
            fingerprint,
          });
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * Writes raw bytes on a TLS connection and collects everything the server sends until it closes
 * the connection (or `timeoutMs` passes).
 */
export function rawTls(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      socket.write(bytes);
    });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (err) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks));
      else reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** The status code of the first response in raw HTTP bytes. */
export function statusOf(raw: Buffer): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(raw.toString("latin1"));
  return match ? Number(match[1]) : 0;
}
