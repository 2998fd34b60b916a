import { type AclEntry, grantRole } from "./acl.js";
import { formatAclPath, parseAclPath } from "./acl-path.js";
import { parseAuthId } from "./auth-id.js";
import { isRoleName } from "./privileges.js";

export const ACL_FILE = "acl.cfg";

/**
 * Parses acl.cfg, PBS's line format `acl:<propagate 0|1>:<path>:<auth ids>:<roles>` (lists
 * comma-separated). Throws an Error naming the line and the problem; groups are not supported.
 */
export function parseAclFile(text: string): AclEntry[] {
  let acl: AclEntry[] = [];
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      for (const entry of parseAclLine(line)) acl = grantRole(acl, entry);
    } catch (err) {
      throw new Error(`line ${index + 1}: ${(err as Error).message}`, { cause: err });
    }
  }
  return acl;
}

function parseAclLine(line: string): AclEntry[] {
  const fields = line.split(":");
  if (fields.length !== 5 || fields[0] !== "acl") {
    throw new Error("expected acl:<propagate>:<path>:<auth ids>:<roles>");
  }
  const [, flag, pathText, ugids, roles] = fields as [string, string, string, string, string];
  if (flag !== "0" && flag !== "1") throw new Error(`propagate must be 0 or 1, not "${flag}"`);
  const path = formatAclPath(parseAclPath(pathText));
  const entries: AclEntry[] = [];
  for (const ugid of ugids.split(",")) {
    if (ugid.startsWith("@")) throw new Error(`group ${ugid}: groups are not supported`);
    parseAuthId(ugid);
    for (const role of roles.split(",")) {
      if (!isRoleName(role)) throw new Error(`unknown role "${role}"`);
      entries.push({ path, ugid, role, propagate: flag === "1" });
    }
  }
  return entries;
}

/** Writes acl.cfg: one line per path, propagate flag and auth id, in a stable order. */
export function serializeAclFile(acl: readonly AclEntry[]): string {
  const lines = new Map<string, string[]>();
  for (const entry of acl) {
    const key = `acl:${entry.propagate ? 1 : 0}:${entry.path}:${entry.ugid}`;
    lines.set(key, [...(lines.get(key) ?? []), entry.role]);
  }
  return [...lines]
    .sort(([a], [b]) => compareLineKeys(a, b))
    .map(([key, roles]) => `${key}:${roles.sort().join(",")}\n`)
    .join("");
}

function compareLineKeys(a: string, b: string): number {
  const [pathA, pathB] = [a.split(":")[2]!, b.split(":")[2]!];
  if (pathA !== pathB) return pathA < pathB ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
