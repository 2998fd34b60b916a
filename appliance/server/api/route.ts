import type { IncomingHttpHeaders } from "node:http";
import type { z } from "zod";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** Who is calling: a user (`name@realm`) or one of its API tokens (`name@realm!token`). */
export interface AuthInfo {
  /** The auth id as PBS writes it: `user@realm` or `user@realm!token`. */
  authId: string;
  /** The user the auth id belongs to (equal to authId for users). */
  userId: string;
  /** Set for API tokens. */
  tokenName?: string;
}

/**
 * Who may call a route. `privileges` are PBS privilege names (any one suffices when `any` is set,
 * else all are needed) on an ACL path whose `{name}` placeholders are filled from the parameters.
 */
export type RoutePermission =
  | { kind: "anybody" }
  | { kind: "authenticated" }
  | { kind: "privileges"; path: string; privileges: readonly string[]; any?: boolean };

/** A request as it arrived, for a route that passes it on unchanged (the privileged service). */
export interface OriginalRequest {
  method: string;
  /** Path and query, e.g. `/api2/json/nodes/localhost/disks/list?include-partitions=1`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What a handler sees: the caller, its validated parameters, and the request's source address. */
export interface RouteContext<P> {
  auth: AuthInfo | undefined;
  params: P;
  remoteAddress: string;
  /** The raw request body for routes that take one as data (uploads); undefined otherwise. */
  body?: Buffer;
  /** The request as received; set by the HTTP dispatcher. */
  original?: OriginalRequest;
  /** Extra headers to set on the answer (e.g. Set-Cookie). */
  setHeader(name: string, value: string): void;
}

/**
 * One API endpoint: its schema is the single source for validation, CLI help and the API
 * documentation. Path placeholders (`{store}`), query parameters and JSON body fields all land in
 * one object validated by `parameters`.
 */
export interface Route<S extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** Below `/api2/json`, e.g. `/admin/datastore/{store}/snapshots`. */
  path: string;
  description: string;
  parameters: S;
  permission: RoutePermission;
  /** When set, the body is passed raw (up to this many bytes) instead of parsed as JSON. */
  rawBody?: { maxBytes: number };
  /** Returns the `data` of the PBS envelope; a Buffer or stream answer is sent as is. */
  handler(ctx: RouteContext<z.infer<S>>): Promise<unknown>;
}

/** Declares a route with its parameter type inferred from the schema. */
export function defineRoute<S extends z.ZodType>(route: Route<S>): Route<S> {
  return route;
}
