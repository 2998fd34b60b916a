/**
 * PBS's group filters: `[include:|exclude:]` then `type:<vm|ct|host>`, `group:<type>/<id>` or
 * `regex:<RE>` (matched against `type/id`). Without an include filter every group is in, else it
 * must match one; then it must match no exclude.
 */
import type { BackupGroupName } from "../datastore/names.js";
import { JobError } from "./errors.js";

export interface GroupFilter {
  exclude: boolean;
  test(group: BackupGroupName): boolean;
}

const TYPES = new Set(["vm", "ct", "host"]);

/** Parses one filter; a bad one is a JobError naming it and what is wrong. */
export function parseGroupFilter(text: string): GroupFilter {
  const bad = (why: string) =>
    new JobError("bad-config", `group filter ${JSON.stringify(text)}: ${why}`, { filter: text });
  let rest = text;
  let exclude = false;
  if (rest.startsWith("exclude:")) {
    exclude = true;
    rest = rest.slice("exclude:".length);
  } else if (rest.startsWith("include:")) {
    rest = rest.slice("include:".length);
  }
  const colon = rest.indexOf(":");
  const kind = colon < 0 ? "" : rest.slice(0, colon);
  const value = rest.slice(colon + 1);
  if (kind === "type") {
    if (!TYPES.has(value)) throw bad("the type must be vm, ct or host");
    return { exclude, test: (group) => group.type === value };
  }
  if (kind === "group") {
    const slash = value.indexOf("/");
    if (slash < 0 || !TYPES.has(value.slice(0, slash)) || slash === value.length - 1) {
      throw bad("the group must be <vm|ct|host>/<id>");
    }
    return { exclude, test: (group) => `${group.type}/${group.id}` === value };
  }
  if (kind === "regex") {
    let regex: RegExp;
    try {
      regex = new RegExp(value);
    } catch (err) {
      throw bad(`bad regular expression: ${(err as Error).message}`);
    }
    return { exclude, test: (group) => regex.test(`${group.type}/${group.id}`) };
  }
  throw bad("must be [include:|exclude:]type:<type>, group:<type>/<id> or regex:<regex>");
}

/** Whether a group passes the filters (all of them parsed). */
export function groupPasses(filters: readonly GroupFilter[], group: BackupGroupName): boolean {
  const includes = filters.filter((filter) => !filter.exclude);
  if (includes.length > 0 && !includes.some((filter) => filter.test(group))) return false;
  return !filters.some((filter) => filter.exclude && filter.test(group));
}
