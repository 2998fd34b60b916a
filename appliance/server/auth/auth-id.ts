import { showValue } from "../../datastore/errors.js";
import { AuthError } from "./errors.js";

/** The built-in superuser: every privilege everywhere, whatever the ACL says (its tokens are not). */
export const SUPERUSER_ID = "root@pam";
/** The built-in realm whose users and password hashes live in the config directory. */
export const BUILTIN_REALM = "pbs";
/** The PAM realm, which on the appliance holds only `root@pam`. */
export const PAM_REALM = "pam";

const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
// no whitespace, colon (list separator in acl.cfg and tickets), slash or control characters
const USER_NAME = /^[^\s:/\p{Cc}]+$/u;
const MAX_AUTH_ID_LENGTH = 64;
const MIN_AUTH_ID_LENGTH = 3;
const REALM_LENGTH = { min: 3, max: 32 };
// PBS parses any safe-id token name but only creates names of 3..64 characters
const TOKEN_NAME_LENGTH = { min: 1, max: 64 };
const NEW_TOKEN_NAME_LENGTH = { min: 3, max: 64 };

/** An auth id taken apart: `name@realm` or `name@realm!token`. */
export interface ParsedAuthId {
  authId: string;
  userId: string;
  name: string;
  realm: string;
  tokenName?: string;
}

function badId(field: string, value: unknown, rule: string): AuthError {
  return new AuthError("bad-id", `invalid ${field} ${showValue(value)}: ${rule}`, {
    field,
    value: showValue(value),
  });
}

/** Parses a user id or an API token id. */
export function parseAuthId(value: unknown, field = "auth-id"): ParsedAuthId {
  if (typeof value !== "string") throw badId(field, value, "expected a string");
  if (value.length < MIN_AUTH_ID_LENGTH || value.length > MAX_AUTH_ID_LENGTH) {
    throw badId(field, value, `length must be ${MIN_AUTH_ID_LENGTH}..${MAX_AUTH_ID_LENGTH}`);
  }
  const at = value.lastIndexOf("@");
  if (at < 0) throw badId(field, value, "expected name@realm or name@realm!token");
  const name = value.slice(0, at);
  const rest = value.slice(at + 1);
  const bang = rest.indexOf("!");
  const realm = bang < 0 ? rest : rest.slice(0, bang);
  const tokenName = bang < 0 ? undefined : rest.slice(bang + 1);
  if (!USER_NAME.test(name)) {
    throw badId(field, value, "the user name may not be empty or contain spaces, ':' or '/'");
  }
  if (!isSafeId(realm, REALM_LENGTH)) {
    throw badId(field, value, "the realm must be a safe id of 3..32 characters");
  }
  if (tokenName !== undefined && !isSafeId(tokenName, TOKEN_NAME_LENGTH)) {
    throw badId(field, value, "the token name must be a safe id");
  }
  const userId = `${name}@${realm}`;
  return tokenName === undefined
    ? { authId: value, userId, name, realm }
    : { authId: value, userId, name, realm, tokenName };
}

/** Parses a user id (`name@realm`); token ids are refused. */
export function parseUserId(value: unknown, field = "userid"): ParsedAuthId {
  const parsed = parseAuthId(value, field);
  if (parsed.tokenName !== undefined) throw badId(field, value, "expected a user, not a token");
  return parsed;
}

/** Parses an API token id (`name@realm!token`). */
export function parseTokenId(value: unknown, field = "tokenid"): ParsedAuthId {
  const parsed = parseAuthId(value, field);
  if (parsed.tokenName === undefined) throw badId(field, value, "expected name@realm!token");
  return parsed;
}

/** Checks the name of a token to be created (the part after `!`). */
export function validateTokenName(value: unknown, field = "token-name"): string {
  if (typeof value !== "string" || !isSafeId(value, NEW_TOKEN_NAME_LENGTH)) {
    throw badId(field, value, "expected a safe id of 3..64 characters");
  }
  return value;
}

/** True for strings of the PBS safe-id form within the length bounds. */
export function isSafeId(value: string, length = { min: 1, max: Infinity }): boolean {
  return value.length >= length.min && value.length <= length.max && SAFE_ID.test(value);
}

export function tokenIdOf(userId: string, tokenName: string): string {
  return `${userId}!${tokenName}`;
}

/** True only for the superuser itself, not for its tokens. */
export function isSuperuser(authId: string): boolean {
  return authId === SUPERUSER_ID;
}

/** True for auth ids that are API tokens. */
export function isTokenId(authId: string): boolean {
  return authId.slice(authId.lastIndexOf("@") + 1).includes("!");
}

/** The user an auth id belongs to (itself for users). */
export function userOfAuthId(authId: string): string {
  const at = authId.lastIndexOf("@");
  const bang = authId.indexOf("!", at);
  return bang < 0 ? authId : authId.slice(0, bang);
}
