import http, { type IncomingHttpHeaders } from "node:http";
import type { OriginalRequest } from "../api/route.js";
import { PrivilegedServiceError } from "./privileged-errors.js";

/** The headers the privileged service needs: credentials (checked again there) and the body's type. */
const FORWARDED_HEADERS = ["authorization", "cookie", "csrfpreventiontoken", "content-type"];

export interface PrivilegedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends `request` unchanged (method, path, query, body, credentials) to the privileged socket. */
export function forwardRequest(
  socketPath: string,
  request: OriginalRequest,
): Promise<PrivilegedAnswer> {
  const headers: Record<string, string | string[]> = {
    "content-length": String(request.body.length),
  };
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { socketPath, method: request.method, path: request.url, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (err) => reject(unavailable(socketPath, err)));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    outgoing.on("error", (err) => reject(unavailable(socketPath, err)));
    outgoing.end(request.body);
  });
}

function unavailable(socketPath: string, err: Error): PrivilegedServiceError {
  const code = (err as NodeJS.ErrnoException).code ?? err.message;
  return new PrivilegedServiceError(
    "unavailable",
    `the privileged service does not answer on ${socketPath} (${code}); disks, pools and network settings need it running`,
    { socket: socketPath, cause: code },
    { cause: err },
  );
}
