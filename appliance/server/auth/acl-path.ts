import { showValue } from "../../datastore/errors.js";
import { MAX_NAMESPACE_DEPTH } from "../../datastore/names.js";
import { isSafeId } from "./auth-id.js";
import { AuthError } from "./errors.js";

/** An ACL path as its components: `/datastore/store1/a` is `["datastore", "store1", "a"]`. */
export type AclPath = readonly string[];

export const MAX_ACL_PATH_LENGTH = 128;

/** Children allowed below `/system`, with how many components each may add below itself. */
const SYSTEM_CHILDREN: Readonly<Record<string, number>> = {
  certificates: 0,
  disks: 0,
  log: 0,
  notifications: 0,
  status: 0,
  tasks: 0,
  time: 0,
  services: 1,
  network: 2,
};

const TAPE_CHILDREN = new Set(["device", "pool", "job"]);

function badPath(field: string, value: unknown, rule: string): AuthError {
  return new AuthError("bad-acl-path", `invalid ACL ${field} ${showValue(value)}: ${rule}`, {
    field,
    value: showValue(value),
  });
}

/** The text form of an ACL path: `/` or `/a/b`. */
export function formatAclPath(path: AclPath): string {
  return `/${path.join("/")}`;
}

/** Parses `/` or `/a/b/…` (safe-id components) and checks it names a place ACLs apply to. */
export function parseAclPath(value: unknown, field = "path"): AclPath {
  if (typeof value !== "string") throw badPath(field, value, "expected a string");
  if (value.length > MAX_ACL_PATH_LENGTH) {
    throw badPath(field, value, `longer than ${MAX_ACL_PATH_LENGTH} characters`);
  }
  if (value === "/") return [];
  if (!value.startsWith("/")) throw badPath(field, value, "must start with '/'");
  return validateAclComponents(value.slice(1).split("/"), field, value);
}

/** Checks components (safe ids forming a known ACL path); `shown` is what the caller received. */
export function validateAclComponents(path: AclPath, field: string, shown: unknown): AclPath {
  for (const component of path) {
    if (!isSafeId(component)) {
      throw badPath(field, shown, `component ${showValue(component)} is not a safe id`);
    }
  }
  const problem = structureProblem(path);
  if (problem !== undefined) throw badPath(field, shown, problem);
  return Object.freeze([...path]);
}

/** Why the components don't form a known ACL path, or undefined when they do. */
export function structureProblem(path: AclPath): string | undefined {
  const [root, second, third] = path;
  const depth = path.length;
  switch (root) {
    case undefined:
      return undefined;
    case "access":
      return depth === 1 || (depth === 2 && ["acl", "users", "domains"].includes(second!))
        ? undefined
        : "below /access only acl, users and domains exist";
    case "datastore":
      return depth <= 2 + MAX_NAMESPACE_DEPTH
        ? undefined
        : `namespaces are at most ${MAX_NAMESPACE_DEPTH} levels deep`;
    case "remote":
      return depth <= 3 ? undefined : "expected /remote[/{remote}[/{store}]]";
    case "system": {
      if (depth === 1) return undefined;
      const extra = SYSTEM_CHILDREN[second!];
      if (extra === undefined) return `unknown system path /system/${second}`;
      if (second === "network" && depth >= 3 && !["dns", "interfaces"].includes(third!)) {
        return "below /system/network only dns and interfaces exist";
      }
      if (second === "network" && third === "dns" && depth > 3) return "nothing below dns";
      return depth <= 2 + extra ? undefined : `too deep below /system/${second}`;
    }
    case "tape":
      return depth === 1 || (depth <= 3 && TAPE_CHILDREN.has(second!))
        ? undefined
        : "expected /tape/{device|pool|job}[/{name}]";
    default:
      return "must start with /access, /datastore, /remote, /system or /tape";
  }
}

/**
 * Fills a route's permission path like `/datastore/{store}/{ns}` from its parameters. A value
 * with slashes adds several components (namespaces); missing values may only end the path.
 */
export function fillAclPath(template: string, params: Readonly<Record<string, unknown>>): AclPath {
  const components: string[] = [];
  let ended = false;
  for (const part of template.split("/").filter((p) => p !== "")) {
    const placeholder = /^\{([^{}]+)\}$/.exec(part)?.[1];
    if (placeholder === undefined) {
      if (ended) throw badPath("template", template, "a literal follows a missing parameter");
      components.push(part);
      continue;
    }
    const value = params[placeholder];
    if (value === undefined || value === null || value === "") {
      ended = true;
      continue;
    }
    if (ended) throw badPath(placeholder, value, "given although an earlier parameter is missing");
    if (typeof value !== "string" && typeof value !== "number") {
      throw badPath(placeholder, value, "expected a string");
    }
    components.push(...String(value).split("/"));
  }
  // no length limit here: namespaces make legitimate datastore paths longer than stored ACL paths
  return validateAclComponents(components, "path", formatAclPath(components));
}
