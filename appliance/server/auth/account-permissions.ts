import type { AuthInfo } from "../api/route.js";
import { isSuperuser, SUPERUSER_ID } from "./auth-id.js";
import type { Authorizer } from "./authorizer.js";
import { AuthError } from "./errors.js";

/** The ACL path that guards user management. */
export const USERS_ACL_PATH = "/access/users";

/** A user acting on itself; its API tokens don't count as the user here. */
export function isSelf(auth: AuthInfo, userid: string): boolean {
  return auth.tokenName === undefined && auth.userId === userid;
}

function forbidden(auth: AuthInfo, what: string): AuthError {
  return new AuthError("forbidden", `permission check failed - ${auth.authId} may not ${what}`, {
    authId: auth.authId,
  });
}

/** Reading a user and its tokens: the user itself, or Sys.Audit on /access/users. */
export async function requireViewUser(
  authorizer: Authorizer,
  auth: AuthInfo,
  userid: string,
): Promise<void> {
  if (isSelf(auth, userid) || (await authorizer.holds(auth, USERS_ACL_PATH, ["Sys.Audit"]))) return;
  throw forbidden(auth, `see user ${userid} (needs Sys.Audit on ${USERS_ACL_PATH})`);
}

/**
 * Changing a user's password or tokens: the user itself, or Permissions.Modify on /access/users;
 * the superuser's own account only by the superuser.
 */
export async function requireManageUser(
  authorizer: Authorizer,
  auth: AuthInfo,
  userid: string,
): Promise<void> {
  if (userid === SUPERUSER_ID) {
    if (isSuperuser(auth.authId)) return;
    throw forbidden(auth, `change ${SUPERUSER_ID} (only ${SUPERUSER_ID} itself may)`);
  }
  if (isSelf(auth, userid)) return;
  if (await authorizer.holds(auth, USERS_ACL_PATH, ["Permissions.Modify"])) return;
  throw forbidden(auth, `change user ${userid} (needs Permissions.Modify on ${USERS_ACL_PATH})`);
}
