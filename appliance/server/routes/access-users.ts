import { z } from "zod";
import { defineRoute } from "../api/route.js";
import type { AccessControl } from "../auth/access-control.js";
import { requireViewUser, USERS_ACL_PATH } from "../auth/account-permissions.js";
import {
  createUser,
  DELETABLE_USER_FIELDS,
  deleteUser,
  setPassword,
  updateUser,
} from "../auth/accounts.js";
import {
  commentSchema,
  expireParam,
  listParam,
  newPasswordSchema,
  pbsBoolean,
  userIdSchema,
} from "../auth/api-schemas.js";
import { isSuperuser, SUPERUSER_ID } from "../auth/auth-id.js";
import { requireAuth } from "../auth/authorizer.js";
import { AuthError } from "../auth/errors.js";
import { singleLine } from "../auth/user-file.js";
import { type UserListItem, userListItem } from "./access-items.js";

const userFields = {
  comment: commentSchema.optional(),
  enable: pbsBoolean.optional(),
  expire: expireParam.optional(),
  firstname: singleLine(128).optional(),
  lastname: singleLine(128).optional(),
  email: singleLine(256).optional(),
};

const modifyUsers = {
  kind: "privileges",
  path: USERS_ACL_PATH,
  privileges: ["Permissions.Modify"],
} as const;

export function accessUserRoutes(access: AccessControl) {
  const list = defineRoute({
    method: "GET",
    path: "/access/users",
    description: `List users: all with Sys.Audit on ${USERS_ACL_PATH}, else only the caller's own.`,
    parameters: z.strictObject({ include_tokens: pbsBoolean.default(false) }),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }): Promise<UserListItem[]> => {
      const caller = requireAuth(auth);
      const file = await access.config.users.read();
      const audit = await access.authorizer.holds(caller, USERS_ACL_PATH, ["Sys.Audit"]);
      return [...file.users.keys()]
        .filter((userid) => audit || userid === caller.userId)
        .sort()
        .map((userid) => userListItem(file, userid, params.include_tokens));
    },
  });

  const create = defineRoute({
    method: "POST",
    path: "/access/users",
    description: "Add a user to the built-in realm pbs.",
    parameters: z.strictObject({
      userid: userIdSchema,
      password: newPasswordSchema.optional(),
      ...userFields,
    }),
    permission: modifyUsers,
    handler: async ({ params }) => {
      const { userid, password, ...fields } = params;
      await createUser(access.config, userid, fields, password, access.passwordCost);
      return null;
    },
  });

  const read = defineRoute({
    method: "GET",
    path: "/access/users/{userid}",
    description: `Read a user: itself, or with Sys.Audit on ${USERS_ACL_PATH}.`,
    parameters: z.strictObject({ userid: userIdSchema }),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }) => {
      await requireViewUser(access.authorizer, requireAuth(auth), params.userid);
      return userListItem(await access.config.users.read(), params.userid, false);
    },
  });

  const update = defineRoute({
    method: "PUT",
    path: "/access/users/{userid}",
    description: `Change a user. ${SUPERUSER_ID} can only be changed by itself and never disabled.`,
    parameters: z.strictObject({
      userid: userIdSchema,
      password: newPasswordSchema.optional(),
      delete: listParam(DELETABLE_USER_FIELDS).optional(),
      ...userFields,
    }),
    permission: modifyUsers,
    handler: async ({ auth, params }) => {
      const caller = requireAuth(auth);
      const { userid, password, delete: remove, ...fields } = params;
      if (userid === SUPERUSER_ID && !isSuperuser(caller.authId)) {
        throw new AuthError("forbidden", `only ${SUPERUSER_ID} may change ${SUPERUSER_ID}`);
      }
      await updateUser(access.config, userid, fields, remove);
      if (password !== undefined) {
        await setPassword(access.config, userid, password, access.passwordCost);
      }
      return null;
    },
  });

  const remove = defineRoute({
    method: "DELETE",
    path: "/access/users/{userid}",
    description: "Remove a user with its API tokens and ACL entries.",
    parameters: z.strictObject({ userid: userIdSchema }),
    permission: modifyUsers,
    handler: async ({ params }) => {
      await deleteUser(access.config, params.userid);
      return null;
    },
  });

  return [list, create, read, update, remove];
}
