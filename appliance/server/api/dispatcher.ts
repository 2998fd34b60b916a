import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger } from "pino";
import { enforcePermission, type RequestAccess } from "../request-access.js";
import { ApiAnswer, RawAnswer } from "./answer.js";
import { ApiError } from "./api-errors.js";
import { fieldsOf, mergeParameters, parseBody, validateParameters } from "./parameters.js";
import { readBody } from "./request-body.js";
import type { AuthInfo, RouteContext } from "./route.js";
import { type RouteTable, splitApiPath } from "./route-table.js";

export const API_PREFIX = "/api2/json";
/** Default limit of a JSON or form body; raw-body routes set their own. */
export const DEFAULT_MAX_JSON_BODY = 512 * 1024;

export interface DispatcherOptions {
  table: RouteTable;
  access: RequestAccess;
  logger: Logger;
  maxJsonBodyBytes?: number;
}

/** The ending of a request: what was answered, for the access log. */
interface Outcome {
  status: number;
  auth?: AuthInfo;
}

/**
 * The HTTP/1.1 request listener of the REST API: route lookup, authentication, body and
 * parameter validation, permission check, handler, `{"data": …}` envelope. Every failure becomes
 * an answer; nothing a request does can throw out of here.
 */
export function createApiDispatcher(options: DispatcherOptions) {
  const maxJsonBody = options.maxJsonBodyBytes ?? DEFAULT_MAX_JSON_BODY;
  return (request: IncomingMessage, response: ServerResponse): void => {
    const requestId = randomBytes(4).toString("hex");
    const started = performance.now();
    const outcome: Outcome = { status: 0 };
    response.setHeader("X-Request-Id", requestId);
    handle(request, response, outcome)
      .catch((err: unknown) => {
        outcome.status = sendError(response, err, requestId, options.logger);
      })
      .catch((err: unknown) => {
        options.logger.error({ req: requestId, err }, "cannot send the error answer");
        response.destroy();
      })
      .finally(() => {
        options.logger.info(
          {
            req: requestId,
            method: request.method,
            path: (request.url ?? "").split("?", 1)[0],
            status: outcome.status,
            ms: Math.round(performance.now() - started),
            ...(outcome.auth && { auth: outcome.auth.authId }),
          },
          "api request",
        );
      });
  };

  async function handle(request: IncomingMessage, response: ServerResponse, outcome: Outcome) {
    const url = request.url ?? "/";
    const queryAt = url.indexOf("?");
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const query = queryAt < 0 ? "" : url.slice(queryAt + 1);
    if (!path.startsWith(`${API_PREFIX}/`)) {
      throw new ApiError("not-found", `no such path ${JSON.stringify(path)}`);
    }
    const match = options.table.match(
      request.method ?? "",
      splitApiPath(path.slice(API_PREFIX.length)),
    );
    if (match.kind === "none")
      throw new ApiError("not-found", `no such path ${JSON.stringify(path)}`);
    if (match.kind === "wrong-method") {
      response.setHeader("Allow", match.allowed.join(", "));
      throw new ApiError("method-not-allowed", `method ${request.method} not allowed here`);
    }
    const { route, pathParams } = match;
    const auth =
      (await options.access.authenticate({
        method: request.method ?? "",
        headers: request.headers,
        remoteAddress: request.socket.remoteAddress ?? "",
      })) ?? undefined;
    if (auth) outcome.auth = auth;
    if (route.permission.kind !== "anybody" && auth === undefined) {
      throw new ApiError("unauthenticated", "authentication required");
    }
    const limit = route.rawBody?.maxBytes ?? maxJsonBody;
    const body = await readBody(request, limit).catch((err: unknown) => {
      if ((err as ApiError).context?.closeConnection) response.setHeader("Connection", "close");
      throw err;
    });
    const bodyFields = route.rawBody ? {} : parseBody(body, request.headers["content-type"]);
    const raw = mergeParameters(pathParams, fieldsOf(new URLSearchParams(query)), bodyFields);
    const params = validateParameters(route.parameters, raw) as Record<string, unknown>;
    await enforcePermission(options.access, auth, route.permission, params);
    const context: RouteContext<unknown> = {
      auth,
      params,
      remoteAddress: request.socket.remoteAddress ?? "",
      ...(route.rawBody && { body }),
      original: { method: request.method ?? "", url, headers: request.headers, body },
      setHeader: (name, value) => response.setHeader(name, value),
    };
    const result = await route.handler(context);
    outcome.status = await send(response, result);
  }
}

async function send(response: ServerResponse, result: unknown): Promise<number> {
  if (result instanceof RawAnswer || Buffer.isBuffer(result) || result instanceof Readable) {
    const raw = result instanceof RawAnswer ? result : new RawAnswer(result);
    response.statusCode = 200;
    response.setHeader("Content-Type", raw.options.contentType ?? "application/octet-stream");
    if (raw.options.filename !== undefined) {
      response.setHeader(
        "Content-Disposition",
        `attachment; filename="${raw.options.filename.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
      );
    }
    if (Buffer.isBuffer(raw.body)) {
      response.setHeader("Content-Length", raw.body.length);
      response.end(raw.body);
    } else {
      if (raw.options.length !== undefined)
        response.setHeader("Content-Length", raw.options.length);
      await pipeline(raw.body, response);
    }
    return 200;
  }
  const envelope =
    result instanceof ApiAnswer
      ? { data: result.data ?? null, ...result.attributes }
      : { data: result ?? null };
  const text = JSON.stringify(envelope);
  response.statusCode = 200;
  response.setHeader("Content-Type", "application/json;charset=UTF-8");
  response.setHeader("Content-Length", Buffer.byteLength(text));
  response.end(text);
  return 200;
}

interface HttpFailure {
  httpStatus: number;
  message: string;
  code?: string;
  context?: Record<string, unknown>;
}

/** A CairnError (or anything shaped like one) carries its own status; anything else is a bug. */
function asFailure(err: unknown): HttpFailure | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const candidate = err as Partial<HttpFailure>;
  const status = candidate.httpStatus;
  if (typeof status !== "number" || status < 400 || status > 599) return undefined;
  if (typeof candidate.message !== "string") return undefined;
  return candidate as HttpFailure;
}

/** HTTP reason phrases are one line of visible ASCII; longer messages are cut. */
export function statusText(message: string): string {
  const clean = message.replace(/[^\x20-\x7e]+/g, " ").trim();
  return clean.length > 120 ? `${clean.slice(0, 117)}...` : clean;
}

function sendError(response: ServerResponse, err: unknown, requestId: string, logger: Logger) {
  const failure = asFailure(err);
  if (failure === undefined || failure.httpStatus >= 500) {
    logger.error({ req: requestId, err }, "request failed");
  }
  if (response.headersSent) {
    response.destroy();
    return failure?.httpStatus ?? 500;
  }
  const status = failure?.httpStatus ?? 500;
  const message = failure?.message ?? `internal server error (request ${requestId})`;
  const errors = failure?.context?.errors;
  const body = JSON.stringify({
    data: null,
    message,
    ...(failure?.code !== undefined && { code: failure.code }),
    ...(typeof errors === "object" && errors !== null && { errors }),
  });
  response.statusCode = status;
  const reason = failure && status < 500 ? statusText(message) : "";
  if (reason !== "") response.statusMessage = reason;
  response.setHeader("Content-Type", "application/json;charset=UTF-8");
  response.setHeader("Content-Length", Buffer.byteLength(body));
  response.end(body);
  return status;
}
