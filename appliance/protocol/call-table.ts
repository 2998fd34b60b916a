import type { z } from "zod";
import { fieldsOf, mergeParameters, parseParameters, type RawParameters } from "./call-params.js";
import { ProtocolError } from "./errors.js";

/**
 * How a session turns one HTTP/2 request into a call: the call is found and its query checked
 * before any body is read (so the transport knows how much to read), then run with the body.
 */

/** PBS refuses parameter bodies (JSON or form) of 64 KiB and more. */
export const PARAMETER_BODY_LIMIT = 64 * 1024 - 1;

export interface CallRequest {
  method: string;
  /** Without the query, e.g. `/fixed_chunk`. */
  path: string;
  query: URLSearchParams;
  /** Media type of a parameter body (`application/json` or form). */
  contentType?: string | undefined;
}

export type CallResult = { kind: "json"; data: unknown } | { kind: "bytes"; bytes: Buffer };

/** What the transport reads before running a call. */
export interface BodyRule {
  /** More bytes than this are refused at once, without reading further. */
  maxBytes: number;
  /** The body must have exactly `maxBytes` bytes (an upload's declared `encoded-size`). */
  exact: boolean;
  /** Read and dropped as it arrives (speedtest): nothing is held. */
  discard: boolean;
}

export interface PreparedCall {
  body: BodyRule;
  run(body: Buffer): Promise<CallResult>;
}

/** How a session ended, for its task's status. */
export interface SessionOutcome {
  ok: boolean;
  message: string;
}

/** A backup or reader session as the HTTP/2 server drives it. */
export interface ProtocolSession {
  /** Finds the call and checks what can be checked before the body; throws ProtocolError. */
  prepare(request: CallRequest): PreparedCall;
  /** The connection is gone: waits for calls in flight, then releases what the session holds. */
  close(): Promise<SessionOutcome>;
}

type CallBody<P> =
  /** Parameters in the query and optionally a JSON or form body. */
  | { kind: "parameters" }
  /** Parameters in the query; the body is raw bytes of exactly `size(params)`. */
  | { kind: "upload"; size(params: P): number }
  /** Parameters in the query; the body is read and dropped. */
  | { kind: "discard" };

export interface CallDefinition<T, S extends z.ZodType = z.ZodType> {
  method: "GET" | "POST" | "PUT";
  path: string;
  parameters: S;
  body: CallBody<z.infer<S>>;
  /** Upload calls: refuses before the body is read (unknown writer, size out of range). */
  precheck?(target: T, params: z.infer<S>): void;
  run(target: T, params: z.infer<S>, body: Buffer): Promise<CallResult> | CallResult;
}

/** Declares a call with its parameter type inferred from the schema. */
export function defineCall<T, S extends z.ZodType>(call: CallDefinition<T, S>): CallDefinition<T> {
  return call as unknown as CallDefinition<T>;
}

export const json = (data: unknown): CallResult => ({ kind: "json", data });
export const bytes = (data: Buffer): CallResult => ({ kind: "bytes", bytes: data });

/** Finds the call for a request and checks its query; `GET /` lists the calls, as PBS does. */
export function prepareCall<T>(
  table: readonly CallDefinition<T>[],
  target: T,
  request: CallRequest,
): PreparedCall {
  const call = table.find((each) => each.path === request.path && each.method === request.method);
  if (call === undefined) {
    if (request.method === "GET" && request.path === "/") return listing(table);
    throw new ProtocolError("unknown-call", `no call ${request.method} ${request.path}`, {
      method: request.method,
      path: request.path,
    });
  }
  const query = fieldsOf(request.query);
  const body = call.body;
  if (body.kind === "parameters") {
    return {
      body: { maxBytes: PARAMETER_BODY_LIMIT, exact: false, discard: false },
      run: async (data) => {
        const raw = mergeParameters(query, parseBodyParameters(data, request.contentType));
        return call.run(target, parseParameters(call.parameters, raw), data);
      },
    };
  }
  const params = parseParameters(call.parameters, query);
  call.precheck?.(target, params);
  const rule: BodyRule =
    body.kind === "upload"
      ? { maxBytes: body.size(params), exact: true, discard: false }
      : { maxBytes: Number.POSITIVE_INFINITY, exact: false, discard: true };
  return { body: rule, run: async (data) => call.run(target, params, data) };
}

/** The 400 for a body that already holds more than the rule allows. */
export function bodyTooLong(rule: BodyRule, received: number): ProtocolError {
  const what = rule.exact
    ? `the declared encoded-size of ${rule.maxBytes} bytes`
    : `the ${rule.maxBytes}-byte limit for parameter bodies`;
  return new ProtocolError("bad-body", `request body exceeds ${what}`, {
    maxBytes: rule.maxBytes,
    received,
  });
}

/** Checks a complete body against its rule; undefined when it fits. */
export function bodyProblem(rule: BodyRule, length: number): ProtocolError | undefined {
  if (rule.discard) return undefined;
  if (length > rule.maxBytes) return bodyTooLong(rule, length);
  if (rule.exact && length !== rule.maxBytes) {
    return new ProtocolError(
      "bad-body",
      `request body has ${length} bytes, the declared encoded-size is ${rule.maxBytes}`,
      { declared: rule.maxBytes, received: length },
    );
  }
  return undefined;
}

/** Runs a prepared call on a body already in memory (tests, and the same checks as streaming). */
export async function runPrepared(prepared: PreparedCall, body: Buffer): Promise<CallResult> {
  const problem = bodyProblem(prepared.body, body.length);
  if (problem) throw problem;
  return prepared.run(prepared.body.discard ? Buffer.alloc(0) : body);
}

function parseBodyParameters(body: Buffer, contentType: string | undefined): RawParameters {
  if (body.length === 0) return {};
  const mediaType = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (mediaType === "application/x-www-form-urlencoded") {
    return fieldsOf(new URLSearchParams(body.toString("utf8")));
  }
  if (mediaType !== "application/json" && mediaType !== "") {
    throw new ProtocolError(
      "bad-body",
      `unsupported content type ${JSON.stringify(mediaType)}: send application/json or a form`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new ProtocolError("bad-body", `request body is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ProtocolError("bad-body", "request body must be a JSON object");
  }
  return parsed as RawParameters;
}

function listing<T>(table: readonly CallDefinition<T>[]): PreparedCall {
  const subdirs = [...new Set(table.map((call) => call.path.slice(1)))].sort();
  return {
    body: { maxBytes: 0, exact: false, discard: false },
    run: async () => json(subdirs.map((subdir) => ({ subdir }))),
  };
}

/** One call as tests and in-process callers make it; the transport uses prepare() instead. */
export interface SessionCall {
  method: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined> | URLSearchParams;
  body?: Buffer;
  contentType?: string;
}

/** prepare() and run for a call whose body is in memory. */
export function handleCall(session: ProtocolSession, call: SessionCall): Promise<CallResult> {
  let prepared: PreparedCall;
  try {
    prepared = session.prepare({
      method: call.method,
      path: call.path,
      query: toSearchParams(call.query),
      contentType: call.contentType,
    });
  } catch (err) {
    return Promise.reject(err);
  }
  return runPrepared(prepared, call.body ?? Buffer.alloc(0));
}

function toSearchParams(query: SessionCall["query"]): URLSearchParams {
  if (query instanceof URLSearchParams) return query;
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) search.set(key, String(value));
  }
  return search;
}
