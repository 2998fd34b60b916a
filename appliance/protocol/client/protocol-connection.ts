import http2, { type ClientHttp2Session } from "node:http2";
import { ProtocolError } from "../errors.js";
import { type QueryValues, queryString } from "./upgrade-connect.js";

const MiB = 1024 * 1024;
/** Largest answer read unless a call says otherwise (an index of a multi-TiB image fits). */
const DEFAULT_MAX_RESPONSE = 1024 * MiB;

export interface CallOptions {
  query?: QueryValues;
  /** Raw bytes (uploads) or a JSON value (sent as application/json). */
  body?: Buffer | object;
  maxResponseBytes?: number;
}

interface Answer {
  status: number;
  body: Buffer;
}

/**
 * The client end of an upgraded protocol session: requests as HTTP/2 streams (many may be in
 * flight), JSON answers unwrapped from `{"data": …}`, errors turned into `remote-error` with the
 * server's status and message.
 */
export class ProtocolConnection {
  constructor(readonly h2: ClientHttp2Session) {}

  get closed(): boolean {
    return this.h2.closed || this.h2.destroyed;
  }

  /** A call answering JSON: returns its `data`. */
  async call(method: string, path: string, options: CallOptions = {}): Promise<unknown> {
    const answer = await this.#checked(method, path, options);
    try {
      return (JSON.parse(answer.body.toString("utf8")) as { data?: unknown }).data ?? null;
    } catch {
      throw new ProtocolError("remote-error", `${method} ${path}: the answer is not JSON`, {
        status: answer.status,
      });
    }
  }

  /** A call answering raw bytes. */
  async download(path: string, options: CallOptions = {}): Promise<Buffer> {
    return (await this.#checked("GET", path, options)).body;
  }

  /** Ends the session after the requests in flight (GOAWAY, then the connection closes). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.h2.close(resolve));
  }

  /** Cuts the connection at once. */
  destroy(): void {
    this.h2.destroy();
  }

  async #checked(method: string, path: string, options: CallOptions): Promise<Answer> {
    const answer = await this.#request(method, path, options);
    if (answer.status >= 200 && answer.status < 300) return answer;
    const message = answer.body.toString("utf8").trim() || `status ${answer.status}`;
    throw new ProtocolError(
      "remote-error",
      `${method} ${path} failed (${answer.status}): ${message}`,
      { status: answer.status, method, path },
      answer.status,
    );
  }

  #request(method: string, path: string, options: CallOptions): Promise<Answer> {
    const query = options.query ? queryString(options.query) : "";
    const body =
      options.body === undefined || Buffer.isBuffer(options.body)
        ? options.body
        : Buffer.from(JSON.stringify(options.body));
    const headers: http2.OutgoingHttpHeaders = {
      ":method": method,
      ":path": query === "" ? path : `${path}?${query}`,
      ...(body !== undefined && {
        "content-type": Buffer.isBuffer(options.body)
          ? "application/octet-stream"
          : "application/json",
        "content-length": body.length,
      }),
    };
    const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE;
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.h2.request(headers, { endStream: body === undefined });
      } catch (err) {
        reject(failed(method, path, err as Error));
        return;
      }
      let status = 0;
      const parts: Buffer[] = [];
      let length = 0;
      let settled = false;
      const settle = (error: Error | undefined) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve({ status, body: Buffer.concat(parts, length) });
      };
      stream.on("response", (responseHeaders) => {
        status = Number(responseHeaders[":status"]);
      });
      stream.on("data", (chunk: Buffer) => {
        length += chunk.length;
        if (length > maxBytes) {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          settle(
            new ProtocolError(
              "remote-error",
              `${method} ${path}: answer exceeds ${maxBytes} bytes`,
            ),
          );
          return;
        }
        parts.push(chunk);
      });
      stream.on("end", () => settle(status === 0 ? failed(method, path) : undefined));
      stream.on("error", (err) => settle(failed(method, path, err)));
      stream.on("close", () => settle(failed(method, path)));
      if (body !== undefined) stream.end(body);
    });
  }
}

function failed(method: string, path: string, cause?: Error): ProtocolError {
  return new ProtocolError(
    "connection-failed",
    `${method} ${path}: the connection ended before an answer${cause ? ` (${cause.message})` : ""}`,
    {},
    undefined,
    { cause },
  );
}
