import { type AclPath, formatAclPath } from "./acl-path.js";
import { isSuperuser, isTokenId, userOfAuthId } from "./auth-id.js";
import {
  ALL_PRIVILEGES,
  NO_ACCESS_ROLE,
  NO_PRIVILEGES,
  type PrivilegeMask,
  ROLE_PRIVILEGES,
  type RoleName,
} from "./privileges.js";

/** One ACL entry: `ugid` holds `role` on `path` (text form, `/` or `/a/b`). */
export interface AclEntry {
  path: string;
  ugid: string;
  role: RoleName;
  /** When false the entry applies to `path` only, not below it. */
  propagate: boolean;
}

/** What an auth id may do on one path, and which of that also holds below it. */
export interface PrivilegeSet {
  privileges: PrivilegeMask;
  propagated: PrivilegeMask;
}

/**
 * The roles `authId` holds on `path`, each with its propagate flag. Walks from `/` down: on each
 * node the entries that apply (propagating ones, or any on the path itself) replace what was
 * inherited; a NoAccess among them replaces everything with nothing.
 */
export function rolesAt(
  acl: readonly AclEntry[],
  authId: string,
  path: AclPath,
): Map<RoleName, boolean> {
  const own = acl.filter((entry) => entry.ugid === authId);
  let roles = new Map<RoleName, boolean>();
  for (let depth = 0; depth <= path.length; depth++) {
    const node = formatAclPath(path.slice(0, depth));
    const here = rolesOnNode(own, node, depth === path.length);
    if (here.size > 0) roles = here;
  }
  return roles;
}

function rolesOnNode(
  own: readonly AclEntry[],
  node: string,
  isTarget: boolean,
): Map<RoleName, boolean> {
  const roles = new Map<RoleName, boolean>();
  for (const entry of own) {
    if (entry.path !== node || !(entry.propagate || isTarget)) continue;
    if (entry.role === NO_ACCESS_ROLE) return new Map([[NO_ACCESS_ROLE, false]]);
    roles.set(entry.role, entry.propagate);
  }
  return roles;
}

/**
 * The privileges of `authId` on `path`. The superuser has all of them; an API token has what its
 * own entries grant and its user also has.
 */
export function privilegesAt(
  acl: readonly AclEntry[],
  authId: string,
  path: AclPath,
): PrivilegeSet {
  if (isSuperuser(authId)) return { privileges: ALL_PRIVILEGES, propagated: ALL_PRIVILEGES };
  const own = { privileges: NO_PRIVILEGES, propagated: NO_PRIVILEGES };
  for (const [role, propagate] of rolesAt(acl, authId, path)) {
    own.privileges |= ROLE_PRIVILEGES[role];
    if (propagate) own.propagated |= ROLE_PRIVILEGES[role];
  }
  if (!isTokenId(authId)) return own;
  const user = privilegesAt(acl, userOfAuthId(authId), path);
  return {
    privileges: own.privileges & user.privileges,
    propagated: own.propagated & user.propagated,
  };
}

function sameSlot(a: AclEntry, b: { path: string; ugid: string }): boolean {
  return a.path === b.path && a.ugid === b.ugid;
}

/**
 * Adds or updates one entry. NoAccess displaces the other roles of that auth id on that path, and
 * any other role displaces NoAccess, so a slot never holds both.
 */
export function grantRole(acl: readonly AclEntry[], entry: AclEntry): AclEntry[] {
  const kept = acl.filter(
    (e) =>
      !sameSlot(e, entry) ||
      (e.role !== entry.role && entry.role !== NO_ACCESS_ROLE && e.role !== NO_ACCESS_ROLE),
  );
  return [...kept, entry];
}

/** Removes one role of an auth id on a path (no error when it wasn't there). */
export function revokeRole(
  acl: readonly AclEntry[],
  slot: { path: string; ugid: string; role: RoleName },
): AclEntry[] {
  return acl.filter((e) => !(sameSlot(e, slot) && e.role === slot.role));
}

/** Removes every entry of an auth id, and of its tokens when it is a user. */
export function removeAuthId(acl: readonly AclEntry[], authId: string): AclEntry[] {
  return acl.filter((e) => e.ugid !== authId && !e.ugid.startsWith(`${authId}!`));
}
