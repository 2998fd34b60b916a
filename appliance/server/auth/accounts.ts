import { randomUUID } from "node:crypto";
import { removeAuthId } from "./acl.js";
import type { AuthConfig } from "./auth-config.js";
import {
  BUILTIN_REALM,
  parseTokenId,
  parseUserId,
  SUPERUSER_ID,
  tokenIdOf,
  validateTokenName,
} from "./auth-id.js";
import { AuthError } from "./errors.js";
import { hashSecret, PASSWORD_COST, type ScryptCost, TOKEN_SECRET_COST } from "./password-hash.js";
import type { TokenRecord, UserRecord } from "./user-file.js";

/** The optional text fields of a user that `delete` may clear. */
export const DELETABLE_USER_FIELDS = ["comment", "firstname", "lastname", "email"] as const;
export type DeletableUserField = (typeof DELETABLE_USER_FIELDS)[number];

export type UserFields = Partial<UserRecord>;
export type TokenFields = Partial<TokenRecord>;

/** A token's secret, shown to the caller once and stored only as a hash. */
export interface NewTokenSecret {
  tokenid: string;
  value: string;
}

function withMap<K, V>(map: ReadonlyMap<K, V>, change: (copy: Map<K, V>) => void): Map<K, V> {
  const copy = new Map(map);
  change(copy);
  return copy;
}

function checkSuperuserStaysActive(userId: string, fields: UserFields): void {
  if (userId !== SUPERUSER_ID) return;
  if (fields.enable === false || (fields.expire !== undefined && fields.expire !== 0)) {
    throw new AuthError("bad-request", `${SUPERUSER_ID} can't be disabled or expire`);
  }
}

/** Adds a user of the built-in realm, with a password when one is given. */
export async function createUser(
  config: AuthConfig,
  userid: string,
  fields: UserFields,
  password?: string,
  cost: ScryptCost = PASSWORD_COST,
): Promise<void> {
  const { realm } = parseUserId(userid);
  if (userid !== SUPERUSER_ID && realm !== BUILTIN_REALM) {
    throw new AuthError("bad-request", `users can only be added to realm ${BUILTIN_REALM}`);
  }
  const hash = password === undefined ? undefined : await hashSecret(password, cost);
  await config.change(async () => {
    const file = await config.users.read();
    if (file.users.has(userid)) throw new AuthError("exists", `user ${userid} already exists`);
    if (hash !== undefined) {
      const passwords = await config.passwords.read();
      await config.passwords.write(withMap(passwords, (m) => m.set(userid, hash)));
    }
    const record: UserRecord = {
      ...fields,
      enable: fields.enable ?? true,
      expire: fields.expire ?? 0,
    };
    await config.users.write({ ...file, users: withMap(file.users, (m) => m.set(userid, record)) });
  });
}

/** Changes a user's fields; `remove` clears optional text fields. */
export async function updateUser(
  config: AuthConfig,
  userid: string,
  fields: UserFields,
  remove: readonly DeletableUserField[] = [],
): Promise<void> {
  checkSuperuserStaysActive(userid, fields);
  await config.change(async () => {
    const file = await config.users.read();
    const current = file.users.get(userid);
    if (current === undefined) throw new AuthError("not-found", `no user ${userid}`);
    const record: UserRecord = { ...current };
    for (const field of remove) delete record[field];
    Object.assign(record, definedOnly(fields));
    await config.users.write({ ...file, users: withMap(file.users, (m) => m.set(userid, record)) });
  });
}

/** Removes a user with its tokens, secrets and ACL entries; the superuser stays. */
export async function deleteUser(config: AuthConfig, userid: string): Promise<void> {
  if (userid === SUPERUSER_ID)
    throw new AuthError("bad-request", `${SUPERUSER_ID} can't be removed`);
  const ownsToken = (tokenId: string) => parseTokenId(tokenId).userId === userid;
  await config.change(async () => {
    const file = await config.users.read();
    if (!file.users.has(userid)) throw new AuthError("not-found", `no user ${userid}`);
    const users = withMap(file.users, (m) => m.delete(userid));
    const tokens = new Map([...file.tokens].filter(([id]) => !ownsToken(id)));
    await config.users.write({ users, tokens });
    const secrets = await config.tokenSecrets.read();
    await config.tokenSecrets.write(new Map([...secrets].filter(([id]) => !ownsToken(id))));
    await config.passwords.write(withMap(await config.passwords.read(), (m) => m.delete(userid)));
    await config.acl.write(removeAuthId(await config.acl.read(), userid));
  });
}

/** Sets (or replaces) the password of an existing user. */
export async function setPassword(
  config: AuthConfig,
  userid: string,
  password: string,
  cost: ScryptCost = PASSWORD_COST,
): Promise<void> {
  const hash = await hashSecret(password, cost);
  await config.change(async () => {
    if (!(await config.users.read()).users.has(userid)) {
      throw new AuthError("not-found", `no user ${userid}`);
    }
    await config.passwords.write(
      withMap(await config.passwords.read(), (m) => m.set(userid, hash)),
    );
  });
}

/** Creates an API token of a user; the returned secret is not stored anywhere in clear. */
export async function createToken(
  config: AuthConfig,
  userid: string,
  tokenName: string,
  fields: TokenFields,
): Promise<NewTokenSecret> {
  const tokenid = tokenIdOf(userid, validateTokenName(tokenName));
  const value = randomUUID();
  const hash = await hashSecret(value, TOKEN_SECRET_COST);
  await config.change(async () => {
    const file = await config.users.read();
    if (!file.users.has(userid)) throw new AuthError("not-found", `no user ${userid}`);
    if (file.tokens.has(tokenid)) throw new AuthError("exists", `token ${tokenid} already exists`);
    const secrets = await config.tokenSecrets.read();
    await config.tokenSecrets.write(withMap(secrets, (m) => m.set(tokenid, hash)));
    const record: TokenRecord = {
      ...fields,
      enable: fields.enable ?? true,
      expire: fields.expire ?? 0,
    };
    await config.users.write({
      ...file,
      tokens: withMap(file.tokens, (m) => m.set(tokenid, record)),
    });
  });
  return { tokenid, value };
}

/** Changes a token's fields; `removeComment` clears its comment. */
export async function updateToken(
  config: AuthConfig,
  tokenid: string,
  fields: TokenFields,
  removeComment = false,
): Promise<void> {
  await config.change(async () => {
    const file = await config.users.read();
    const current = file.tokens.get(tokenid);
    if (current === undefined) throw new AuthError("not-found", `no token ${tokenid}`);
    const record: TokenRecord = { ...current };
    if (removeComment) delete record.comment;
    Object.assign(record, definedOnly(fields));
    await config.users.write({
      ...file,
      tokens: withMap(file.tokens, (m) => m.set(tokenid, record)),
    });
  });
}

/** Removes a token with its secret and ACL entries. */
export async function deleteToken(config: AuthConfig, tokenid: string): Promise<void> {
  await config.change(async () => {
    const file = await config.users.read();
    if (!file.tokens.has(tokenid)) throw new AuthError("not-found", `no token ${tokenid}`);
    await config.users.write({ ...file, tokens: withMap(file.tokens, (m) => m.delete(tokenid)) });
    const secrets = await config.tokenSecrets.read();
    await config.tokenSecrets.write(withMap(secrets, (m) => m.delete(tokenid)));
    await config.acl.write(removeAuthId(await config.acl.read(), tokenid));
  });
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
