import { z } from "zod";
import { defineRoute, type Route } from "../api/route.js";
import type { AccessControl } from "../auth/access-control.js";
import { requireManageUser } from "../auth/account-permissions.js";
import { setPassword } from "../auth/accounts.js";
import {
  aclPathSchema,
  authIdSchema,
  newPasswordSchema,
  userIdSchema,
} from "../auth/api-schemas.js";
import { isTokenId, userOfAuthId } from "../auth/auth-id.js";
import { requireAuth } from "../auth/authorizer.js";
import { AuthError } from "../auth/errors.js";
import { accessAclRoutes } from "./access-acl.js";
import { accessTokenRoutes } from "./access-tokens.js";
import { accessUserRoutes } from "./access-users.js";

/** Every `/access/…` route, working on one AccessControl. */
export function accessRoutes(access: AccessControl): Route[] {
  return [
    ticketRoute(access),
    passwordRoute(access),
    permissionsRoute(access),
    ...accessAclRoutes(access),
    ...accessUserRoutes(access),
    ...accessTokenRoutes(access),
  ];
}

/** POST /access/ticket: log in with a password, or renew a ticket by passing it as the password. */
export function ticketRoute(access: AccessControl) {
  return defineRoute({
    method: "POST",
    path: "/access/ticket",
    description: "Create or renew an authentication ticket.",
    // not strict: login clients send PBS's optional fields; path/privs/port (terminal tickets) are ignored
    parameters: z.object({
      username: z.string().min(1).max(64),
      password: z.string().min(1).max(4096),
      "tfa-challenge": z.string().optional(),
    }),
    permission: { kind: "anybody" },
    handler: async ({ params, remoteAddress }) => {
      if (params["tfa-challenge"] !== undefined) {
        throw new AuthError("bad-request", "second factors are not supported");
      }
      return access.authenticator.login(params.username, params.password, remoteAddress);
    },
  });
}

/**
 * PUT /access/password: users change their own password; holders of Permissions.Modify on
 * /access/users change any of the built-in realm's. API tokens can't.
 */
export function passwordRoute(access: AccessControl) {
  return defineRoute({
    method: "PUT",
    path: "/access/password",
    description: "Change a user's password.",
    parameters: z.strictObject({ userid: userIdSchema, password: newPasswordSchema }),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }) => {
      const caller = requireAuth(auth);
      if (caller.tokenName !== undefined) {
        throw new AuthError("forbidden", "API tokens can't change passwords");
      }
      await requireManageUser(access.authorizer, caller, params.userid);
      await setPassword(access.config, params.userid, params.password, access.passwordCost);
      return null;
    },
  });
}

/**
 * GET /access/permissions: `{path: {privilege: propagates}}` for the caller, or for another auth
 * id with Sys.Audit on /access (a user may also look at its own tokens).
 */
export function permissionsRoute(access: AccessControl) {
  return defineRoute({
    method: "GET",
    path: "/access/permissions",
    description: "The privileges of an auth id on one path, or on all paths that matter.",
    parameters: z.strictObject({
      "auth-id": authIdSchema.optional(),
      path: aclPathSchema.optional(),
    }),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }) => {
      const caller = requireAuth(auth);
      const target = params["auth-id"] ?? caller.authId;
      const ownToken =
        caller.tokenName === undefined &&
        isTokenId(target) &&
        userOfAuthId(target) === caller.userId;
      if (target !== caller.authId && !ownToken) {
        const audit = await access.authorizer.holds(caller, "/access", ["Sys.Audit"]);
        if (!audit) {
          throw new AuthError(
            "forbidden",
            `permission check failed - ${caller.authId} may not list the permissions of ${target} (needs Sys.Audit on /access)`,
          );
        }
      }
      return access.authorizer.permissionsReport(target, params.path);
    },
  });
}
