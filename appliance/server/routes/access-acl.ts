import { z } from "zod";
import { type AuthInfo, defineRoute } from "../api/route.js";
import type { AccessControl } from "../auth/access-control.js";
import type { AclEntry } from "../auth/acl.js";
import { changeAcl } from "../auth/acl-admin.js";
import { formatAclPath, parseAclPath } from "../auth/acl-path.js";
import { aclPathSchema, authIdSchema, pbsBoolean, roleSchema } from "../auth/api-schemas.js";
import { isTokenId, userOfAuthId } from "../auth/auth-id.js";
import { requireAuth } from "../auth/authorizer.js";
import { AuthError } from "../auth/errors.js";

const ACL_ACL_PATH = "/access/acl";

/** One entry as `GET /access/acl` lists it (PBS field names). */
export interface AclListItem {
  path: string;
  ugid: string;
  ugid_type: "user";
  propagate: boolean;
  roleid: string;
}

/** The entries at `path` (and below it unless `exact`), all of them when `path` is absent. */
export function selectAclEntries(
  acl: readonly AclEntry[],
  path: string | undefined,
  exact: boolean,
): AclEntry[] {
  if (path === undefined) return [...acl];
  const below = path === "/" ? "/" : `${path}/`;
  return acl.filter((e) => e.path === path || (!exact && e.path.startsWith(below)));
}

function compareEntries(a: AclEntry, b: AclEntry): number {
  for (const key of ["path", "ugid", "role"] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  return 0;
}

function isOwnToken(caller: AuthInfo, authId: string): boolean {
  return (
    caller.tokenName === undefined && isTokenId(authId) && userOfAuthId(authId) === caller.userId
  );
}

export function accessAclRoutes(access: AccessControl) {
  const mayAudit = (caller: AuthInfo) =>
    access.authorizer.holds(caller, ACL_ACL_PATH, ["Sys.Audit"]);
  const mayModify = (caller: AuthInfo) =>
    access.authorizer.holds(caller, ACL_ACL_PATH, ["Permissions.Modify"]);

  const list = defineRoute({
    method: "GET",
    path: "/access/acl",
    description:
      "List ACL entries: all with Sys.Audit on /access/acl, else those of the caller's own API tokens.",
    parameters: z.strictObject({
      path: aclPathSchema.optional(),
      exact: pbsBoolean.default(false),
    }),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }): Promise<AclListItem[]> => {
      const caller = requireAuth(auth);
      const path = params.path === undefined ? undefined : formatAclPath(parseAclPath(params.path));
      const audit = await mayAudit(caller);
      return selectAclEntries(await access.config.acl.read(), path, params.exact)
        .filter((e) => audit || isOwnToken(caller, e.ugid))
        .sort(compareEntries)
        .map((e) => ({
          path: e.path,
          ugid: e.ugid,
          ugid_type: "user",
          propagate: e.propagate,
          roleid: e.role,
        }));
    },
  });

  const update = defineRoute({
    method: "PUT",
    path: "/access/acl",
    description:
      "Grant or (with delete) revoke a role. Needs Permissions.Modify on /access/acl; without it, users may only change the entries of their own API tokens.",
    parameters: z.strictObject({
      path: aclPathSchema,
      role: roleSchema,
      propagate: pbsBoolean.default(true),
      "auth-id": authIdSchema.optional(),
      group: z.string().max(64).optional(),
      delete: pbsBoolean.default(false),
    }),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }) => {
      const caller = requireAuth(auth);
      if (params.group !== undefined) {
        throw new AuthError("bad-request", "group ACLs are not supported; use auth-id");
      }
      const authId = params["auth-id"];
      if (authId === undefined) throw new AuthError("bad-request", "auth-id is required");
      if (!(await mayModify(caller)) && !isOwnToken(caller, authId)) {
        throw new AuthError(
          "forbidden",
          `permission check failed - ${caller.authId} may only change the ACL of its own API tokens without Permissions.Modify on ${ACL_ACL_PATH}`,
        );
      }
      await changeAcl(access.config, {
        path: params.path,
        authId,
        role: params.role,
        propagate: params.propagate,
        delete: params.delete,
      });
      return null;
    },
  });

  return [list, update];
}
