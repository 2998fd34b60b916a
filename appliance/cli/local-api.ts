import http from "node:http";
import { CairnError } from "../errors.js";

export type ApiMethod = "GET" | "POST" | "PUT" | "DELETE";
type ParamValue = string | number | boolean | readonly string[] | undefined;
/** Parameters as the HTTPS API takes them; undefined ones are left out. */
export type ApiParams = Readonly<Record<string, ParamValue>>;

/** The `data` of an answer and the envelope's other attributes (`total`, `digest`, `active`). */
export interface ApiResult<T> {
  data: T;
  attributes: Record<string, unknown>;
}

export type LocalApiErrorKind = "not-running" | "permission-denied" | "connection" | "bad-answer";

/** The admin socket could not be used (`CAIRN_E_LOCAL_API_…`). */
export class LocalApiError extends CairnError {
  override name = "LocalApiError";

  constructor(
    readonly kind: LocalApiErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_LOCAL_API_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      503,
      context,
      options,
    );
  }
}

/** The server refused a request: its code, status and message, as the HTTPS API sends them. */
export class ApiCallError extends CairnError {
  override name = "ApiCallError";
}

/** `apiPath\`/config/datastore/${name}\``: each inserted value becomes one path segment. */
export function apiPath(parts: TemplateStringsArray, ...values: string[]): string {
  return parts.reduce((path, part, i) => path + part + encodeURIComponent(values[i] ?? ""), "");
}

function queryOf(params: ApiParams): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const values: readonly (string | number | boolean)[] = Array.isArray(value) ? value : [value];
    for (const each of values) query.append(name, String(each));
  }
  const text = query.toString();
  return text === "" ? "" : `?${text}`;
}

function bodyOf(params: ApiParams): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)),
  );
}

/**
 * A client of the REST API on the daemon's admin socket: the same paths and parameters as over
 * HTTPS (below `/api2/json`), without credentials, since the socket acts as root@pam.
 */
export class LocalApi {
  constructor(
    readonly socketPath: string,
    /** How to start the server, for the error when it isn't running. */
    private readonly startHint: string,
  ) {}

  get<T>(path: string, params: ApiParams = {}): Promise<ApiResult<T>> {
    return this.call("GET", path, params);
  }

  post<T>(path: string, params: ApiParams = {}): Promise<ApiResult<T>> {
    return this.call("POST", path, params);
  }

  put<T>(path: string, params: ApiParams = {}): Promise<ApiResult<T>> {
    return this.call("PUT", path, params);
  }

  delete<T>(path: string, params: ApiParams = {}): Promise<ApiResult<T>> {
    return this.call("DELETE", path, params);
  }

  /** GET and DELETE send their parameters in the query string, POST and PUT as a JSON body. */
  async call<T>(method: ApiMethod, path: string, params: ApiParams = {}): Promise<ApiResult<T>> {
    const inBody = method === "POST" || method === "PUT";
    const body = inBody ? bodyOf(params) : undefined;
    const { status, reason, text } = await this.#send(
      method,
      `/api2/json${path}${inBody ? "" : queryOf(params)}`,
      body,
    );
    let envelope: Record<string, unknown>;
    try {
      envelope = JSON.parse(text) as Record<string, unknown>;
    } catch (cause) {
      if (status >= 400) throw new ApiCallError(`CAIRN_E_HTTP_${status}`, reason, status);
      throw new LocalApiError(
        "bad-answer",
        `the server sent no JSON for ${method} ${path}`,
        {},
        {
          cause,
        },
      );
    }
    if (status >= 400) {
      const { message, code, errors } = envelope;
      throw new ApiCallError(
        typeof code === "string" ? code : `CAIRN_E_HTTP_${status}`,
        typeof message === "string" && message !== "" ? message : reason,
        status,
        errors === undefined ? {} : { errors },
      );
    }
    const { data, ...attributes } = envelope;
    return { data: data as T, attributes };
  }

  #send(
    method: ApiMethod,
    path: string,
    body: string | undefined,
  ): Promise<{ status: number; reason: string; text: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: {
            accept: "application/json",
            ...(body !== undefined && {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", (err) => reject(this.#connectionError(err)));
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              reason: response.statusMessage ?? "",
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      request.on("error", (err) => reject(this.#connectionError(err)));
      request.end(body);
    });
  }

  #connectionError(err: NodeJS.ErrnoException): LocalApiError {
    const where = { socket: this.socketPath };
    switch (err.code) {
      case "ENOENT":
      case "ECONNREFUSED":
        return new LocalApiError(
          "not-running",
          `the Cairn server is not running (nothing listens on ${this.socketPath}); start it with '${this.startHint}', or point --state-dir (or CAIRN_STATE_DIR) at the state directory of the running server`,
          where,
          { cause: err },
        );
      case "EACCES":
      case "EPERM":
        return new LocalApiError(
          "permission-denied",
          `permission denied on ${this.socketPath}: run cairn-manager as the user the server runs as`,
          where,
          { cause: err },
        );
      default:
        return new LocalApiError(
          "connection",
          `lost the connection to the Cairn server on ${this.socketPath}: ${err.message}`,
          where,
          { cause: err },
        );
    }
  }
}
