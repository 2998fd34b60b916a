import { ApiError } from "./api-errors.js";
import type { HttpMethod, Route } from "./route.js";

type Segment = { literal: string } | { placeholder: string };

interface Entry {
  route: Route;
  segments: Segment[];
}

export type RouteMatch =
  | { kind: "found"; route: Route; pathParams: Record<string, string> }
  | { kind: "wrong-method"; allowed: HttpMethod[] }
  | { kind: "none" };

function compile(path: string): Segment[] {
  if (!path.startsWith("/")) throw new Error(`route path ${path} must start with '/'`);
  return path
    .slice(1)
    .split("/")
    .map((part) => {
      const placeholder = /^\{([A-Za-z0-9_-]+)\}$/.exec(part);
      if (placeholder) return { placeholder: placeholder[1]! };
      if (part === "" || part.includes("{")) throw new Error(`bad segment in route path ${path}`);
      return { literal: part };
    });
}

/**
 * Splits the part of a URL path below `/api2/json` into decoded segments. Dot segments are
 * refused outright: no route has one, and a placeholder must never receive one.
 */
export function splitApiPath(rawPath: string): string[] {
  const trimmed = rawPath.length > 1 && rawPath.endsWith("/") ? rawPath.slice(0, -1) : rawPath;
  const parts = trimmed.slice(1).split("/");
  return parts.map((part) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      throw new ApiError("bad-request", `malformed percent-encoding in the path segment ${part}`);
    }
    if (decoded === "." || decoded === "..") {
      throw new ApiError("bad-request", "the path must not contain '.' or '..' segments");
    }
    return decoded;
  });
}

/** The routes of the API and the lookup of a request path among them. */
export class RouteTable {
  readonly #entries: Entry[] = [];

  constructor(routes: Iterable<Route> = []) {
    for (const route of routes) this.add(route);
  }

  add(route: Route): void {
    const duplicate = this.#entries.find(
      (entry) => entry.route.method === route.method && entry.route.path === route.path,
    );
    if (duplicate) throw new Error(`route ${route.method} ${route.path} is defined twice`);
    this.#entries.push({ route, segments: compile(route.path) });
  }

  get routes(): readonly Route[] {
    return this.#entries.map((entry) => entry.route);
  }

  /** Among routes of the method, literal segments win over placeholders. */
  match(method: string, segments: readonly string[]): RouteMatch {
    const matches: { entry: Entry; params: Record<string, string>; score: number }[] = [];
    for (const entry of this.#entries) {
      const params = matchSegments(entry.segments, segments);
      if (params === undefined) continue;
      const score = entry.segments.filter((segment) => "literal" in segment).length;
      matches.push({ entry, params, score });
    }
    if (matches.length === 0) return { kind: "none" };
    const sameMethod = matches
      .filter((candidate) => candidate.entry.route.method === method)
      .sort((a, b) => b.score - a.score);
    const hit = sameMethod[0];
    if (hit) return { kind: "found", route: hit.entry.route, pathParams: hit.params };
    const allowed = [...new Set(matches.map((candidate) => candidate.entry.route.method))];
    return { kind: "wrong-method", allowed };
  }
}

function matchSegments(
  pattern: readonly Segment[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = segments[i]!;
    if ("literal" in expected) {
      if (expected.literal !== actual) return undefined;
    } else {
      if (actual === "") return undefined;
      params[expected.placeholder] = actual;
    }
  }
  return params;
}
