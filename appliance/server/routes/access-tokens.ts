import { z } from "zod";
import { defineRoute } from "../api/route.js";
import type { AccessControl } from "../auth/access-control.js";
import { requireManageUser, requireViewUser } from "../auth/account-permissions.js";
import { createToken, deleteToken, updateToken } from "../auth/accounts.js";
import {
  commentSchema,
  expireParam,
  listParam,
  pbsBoolean,
  tokenNameSchema,
  userIdSchema,
} from "../auth/api-schemas.js";
import { tokenIdOf } from "../auth/auth-id.js";
import { requireAuth } from "../auth/authorizer.js";
import { AuthError } from "../auth/errors.js";
import { type TokenListItem, tokenListItem, tokensOf } from "./access-items.js";

const tokenPath = "/access/users/{userid}/token/{token-name}";
const tokenFields = {
  comment: commentSchema.optional(),
  enable: pbsBoolean.optional(),
  expire: expireParam.optional(),
};
const tokenParams = z.strictObject({ userid: userIdSchema, "token-name": tokenNameSchema });

export function accessTokenRoutes(access: AccessControl) {
  const list = defineRoute({
    method: "GET",
    path: "/access/users/{userid}/token",
    description: "List a user's API tokens.",
    parameters: z.strictObject({ userid: userIdSchema }),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }): Promise<TokenListItem[]> => {
      await requireViewUser(access.authorizer, requireAuth(auth), params.userid);
      const file = await access.config.users.read();
      if (!file.users.has(params.userid)) {
        throw new AuthError("not-found", `no user ${params.userid}`);
      }
      return tokensOf(file.tokens, params.userid);
    },
  });

  const read = defineRoute({
    method: "GET",
    path: tokenPath,
    description: "Read one API token (without its secret).",
    parameters: tokenParams,
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }) => {
      await requireViewUser(access.authorizer, requireAuth(auth), params.userid);
      const tokenid = tokenIdOf(params.userid, params["token-name"]);
      const record = (await access.config.users.read()).tokens.get(tokenid);
      if (record === undefined) throw new AuthError("not-found", `no token ${tokenid}`);
      return tokenListItem(tokenid, record);
    },
  });

  const create = defineRoute({
    method: "POST",
    path: tokenPath,
    description: "Create an API token; its secret is in the answer and shown only this once.",
    parameters: tokenParams.extend(tokenFields),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }) => {
      await requireManageUser(access.authorizer, requireAuth(auth), params.userid);
      const { userid, "token-name": name, ...fields } = params;
      return createToken(access.config, userid, name, fields);
    },
  });

  const update = defineRoute({
    method: "PUT",
    path: tokenPath,
    description: "Change an API token's comment, enable flag or expiry.",
    parameters: tokenParams.extend({ ...tokenFields, delete: listParam(["comment"]).optional() }),
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }) => {
      await requireManageUser(access.authorizer, requireAuth(auth), params.userid);
      const { userid, "token-name": name, delete: remove, ...fields } = params;
      await updateToken(
        access.config,
        tokenIdOf(userid, name),
        fields,
        remove?.includes("comment"),
      );
      return null;
    },
  });

  const remove = defineRoute({
    method: "DELETE",
    path: tokenPath,
    description: "Remove an API token with its ACL entries.",
    parameters: tokenParams,
    permission: { kind: "authenticated" },
    handler: async ({ auth, params }) => {
      await requireManageUser(access.authorizer, requireAuth(auth), params.userid);
      await deleteToken(access.config, tokenIdOf(params.userid, params["token-name"]));
      return null;
    },
  });

  return [list, read, create, update, remove];
}
