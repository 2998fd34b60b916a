import type { AuthInfo, RoutePermission } from "../api/route.js";
import { type PrivilegeSet, privilegesAt } from "./acl.js";
import { type AclPath, fillAclPath, formatAclPath, parseAclPath } from "./acl-path.js";
import type { AuthConfig } from "./auth-config.js";
import { AuthError } from "./errors.js";
import {
  isPrivilegeName,
  type PrivilegeName,
  privilegeBit,
  privilegeMask,
  privilegeNames,
} from "./privileges.js";

/** Paths `GET /access/permissions` always looks at, as PBS does, besides those in the ACL. */
const REPORTED_PATHS = ["/", "/access", "/datastore", "/remote", "/system"];

/** `{path: {privilege: propagates}}`, the shape of `GET /access/permissions`. */
export type PermissionsReport = Record<string, Record<string, boolean>>;

/** The caller, or a 401 when the request carried no credentials. */
export function requireAuth(auth: AuthInfo | undefined): AuthInfo {
  if (auth === undefined) throw new AuthError("unauthenticated", "authentication required");
  return auth;
}

/** Answers what an auth id may do where, from the ACL in the config directory. */
export class Authorizer {
  constructor(private readonly config: AuthConfig) {}

  /** The privileges of `authId` on a path (text `/a/b` or components). */
  async privilegesAt(authId: string, path: string | AclPath): Promise<PrivilegeSet> {
    const components = typeof path === "string" ? parseAclPath(path) : path;
    return privilegesAt(await this.config.acl.read(), authId, components);
  }

  async hasPrivilege(authId: string, aclPath: string, privilege: PrivilegeName): Promise<boolean> {
    const { privileges } = await this.privilegesAt(authId, aclPath);
    return (privileges & privilegeBit(privilege)) !== 0;
  }

  /**
   * Enforces a route's permission: 401 without credentials (unless anybody may call it), 403
   * naming the missing privileges and the path.
   */
  async checkPermission(
    auth: AuthInfo | undefined,
    permission: RoutePermission,
    params: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    if (permission.kind === "anybody") return;
    const caller = requireAuth(auth);
    if (permission.kind === "authenticated") return;
    const path = fillAclPath(permission.path, params);
    await this.requirePrivileges(caller, path, permission.privileges, permission.any ?? false);
  }

  /** Throws 403 unless the caller has all (or with `any`, one) of the privileges on the path. */
  async requirePrivileges(
    auth: AuthInfo,
    path: AclPath,
    privileges: readonly string[],
    any = false,
  ): Promise<void> {
    const wanted = privileges.map((name) => {
      if (!isPrivilegeName(name)) throw new Error(`route names unknown privilege "${name}"`);
      return name;
    });
    const { privileges: held } = await this.privilegesAt(auth.authId, path);
    const missing = wanted.filter((name) => (held & privilegeBit(name)) === 0);
    const allowed = any
      ? missing.length < wanted.length || wanted.length === 0
      : missing.length === 0;
    if (allowed) return;
    const what = any ? `any of ${wanted.join(", ")}` : missing.join(", ");
    throw new AuthError(
      "forbidden",
      `permission check failed - ${auth.authId} lacks ${what} on ${formatAclPath(path)}`,
      { authId: auth.authId, path: formatAclPath(path), missing },
    );
  }

  /** True when the caller has every one of the privileges on the path. */
  async holds(
    auth: AuthInfo,
    path: string,
    privileges: readonly PrivilegeName[],
  ): Promise<boolean> {
    const wanted = privilegeMask(privileges);
    return ((await this.privilegesAt(auth.authId, path)).privileges & wanted) === wanted;
  }

  /**
   * What `authId` may do on `path`, or on every path in the ACL (and their parents) plus the
   * standard ones; paths where it may do nothing are left out.
   */
  async permissionsReport(authId: string, path?: string): Promise<PermissionsReport> {
    const acl = await this.config.acl.read();
    const paths = new Set(
      path === undefined ? REPORTED_PATHS : [formatAclPath(parseAclPath(path))],
    );
    if (path === undefined) {
      for (const entry of acl) {
        const components = parseAclPath(entry.path);
        for (let depth = 0; depth <= components.length; depth++) {
          paths.add(formatAclPath(components.slice(0, depth)));
        }
      }
    }
    const report: PermissionsReport = {};
    for (const text of [...paths].sort()) {
      const set = privilegesAt(acl, authId, parseAclPath(text));
      if (set.privileges === 0) continue;
      report[text] = Object.fromEntries(
        privilegeNames(set.privileges).map((name) => [
          name,
          (set.propagated & privilegeBit(name)) !== 0,
        ]),
      );
    }
    return report;
  }
}
