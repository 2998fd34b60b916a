import { z } from "zod";
import type { Route, RoutePermission } from "./route.js";

export interface EndpointDescription {
  method: string;
  /** Below `/api2/json`. */
  path: string;
  description: string;
  permission: RoutePermission;
  /** JSON Schema (draft 2020-12) of the parameters, as callers send them. */
  parameters: unknown;
  rawBody?: { maxBytes: number };
}

/**
 * The API reference, derived from the same zod schemas that validate requests, so documentation
 * and behaviour cannot drift apart.
 */
export function describeApi(routes: Iterable<Route>): EndpointDescription[] {
  return [...routes]
    .map((route) => ({
      method: route.method,
      path: route.path,
      description: route.description,
      permission: route.permission,
      parameters: z.toJSONSchema(route.parameters, { io: "input", unrepresentable: "any" }),
      ...(route.rawBody && { rawBody: route.rawBody }),
    }))
    .sort((a, b) =>
      a.path === b.path ? a.method.localeCompare(b.method) : a.path < b.path ? -1 : 1,
    );
}
