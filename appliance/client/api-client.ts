import http, { type IncomingMessage } from "node:http";
import { connectTls, type ServerTrust } from "../protocol/client/tls-connect.js";
import {
  authHeaders,
  type ClientCredentials,
  queryString,
} from "../protocol/client/upgrade-connect.js";
import { ClientError } from "./errors.js";

/** Largest REST answer read (a long snapshot list fits easily). */
const MAX_ANSWER = 64 * 1024 * 1024;
const USER_AGENT = "cairn-client/1.0";

export type ApiParams = Record<string, string | number | boolean | undefined>;

export interface ApiAnswer {
  status: number;
  body: Buffer;
}

/**
 * The REST API (`/api2/json/…`) of one server over TLS 1.3, trusted as `trust` says. Parameters
 * go in the query for GET and DELETE and as a JSON body otherwise, as PBS's client sends them.
 */
export class ApiClient {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly trust: ServerTrust,
    readonly credentials?: ClientCredentials,
  ) {}

  withCredentials(credentials: ClientCredentials): ApiClient {
    return new ApiClient(this.host, this.port, this.trust, credentials);
  }

  get(path: string, params: ApiParams = {}): Promise<unknown> {
    return this.call("GET", path, params);
  }

  post(path: string, params: ApiParams = {}): Promise<unknown> {
    return this.call("POST", path, params);
  }

  put(path: string, params: ApiParams = {}): Promise<unknown> {
    return this.call("PUT", path, params);
  }

  delete(path: string, params: ApiParams = {}): Promise<unknown> {
    return this.call("DELETE", path, params);
  }

  /** A call answering `{"data": …}`; returns the data, or throws with the server's message. */
  async call(method: string, path: string, params: ApiParams = {}): Promise<unknown> {
    const answer = await this.request(method, path, params);
    const text = answer.body.toString("utf8");
    if (answer.status < 200 || answer.status > 299) {
      throw new ClientError(
        answer.status === 401 ? "login-failed" : "api-failed",
        `${method} ${path} failed (${answer.status}): ${errorMessage(text)}`,
        { status: answer.status, method, path },
      );
    }
    try {
      return (JSON.parse(text) as { data?: unknown }).data ?? null;
    } catch {
      throw new ClientError("api-failed", `${method} ${path}: the answer is not JSON`);
    }
  }

  async request(method: string, path: string, params: ApiParams = {}): Promise<ApiAnswer> {
    const inQuery = method === "GET" || method === "DELETE";
    const query = inQuery ? queryString(params) : "";
    const body = inQuery ? undefined : Buffer.from(JSON.stringify(defined(params)));
    const socket = await connectTls(this.host, this.port, this.trust);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          method,
          path: `/api2/json${path}${query === "" ? "" : `?${query}`}`,
          headers: {
            Host: this.host.includes(":")
              ? `[${this.host}]:${this.port}`
              : `${this.host}:${this.port}`,
            "User-Agent": USER_AGENT,
            ...(this.credentials && authHeaders(this.credentials)),
            ...(body && { "Content-Type": "application/json", "Content-Length": body.length }),
          },
          createConnection: () => socket,
        },
        (response) => readAnswer(response).then(resolve, reject),
      );
      request.once("error", (err) =>
        reject(
          new ClientError("api-failed", `${method} ${path}: ${err.message}`, {}, { cause: err }),
        ),
      );
      request.end(body);
    });
  }
}

async function readAnswer(response: IncomingMessage): Promise<ApiAnswer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const piece of response) {
    length += (piece as Buffer).length;
    if (length > MAX_ANSWER) throw new ClientError("api-failed", "the answer is too large");
    parts.push(piece as Buffer);
  }
  response.socket.destroy();
  return { status: response.statusCode ?? 0, body: Buffer.concat(parts) };
}

function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; errors?: unknown };
    if (typeof parsed.message === "string") {
      return parsed.errors ? `${parsed.message} ${JSON.stringify(parsed.errors)}` : parsed.message;
    }
  } catch {}
  return text.trim() || "no message";
}

function defined(params: ApiParams): ApiParams {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
}
