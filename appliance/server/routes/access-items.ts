import { parseTokenId } from "../auth/auth-id.js";
import { AuthError } from "../auth/errors.js";
import type { TokenRecord, UserFile, UserRecord } from "../auth/user-file.js";

/** A token as the API shows it (PBS field names); never its secret. */
export interface TokenListItem extends TokenRecord {
  tokenid: string;
  "token-name": string;
}

/** A user as the API shows it (PBS field names). */
export interface UserListItem extends UserRecord {
  userid: string;
  tokens?: TokenListItem[];
}

export function tokenListItem(tokenid: string, record: TokenRecord): TokenListItem {
  return { tokenid, "token-name": tokenid.slice(tokenid.lastIndexOf("!") + 1), ...record };
}

/** The tokens of one user, by token id. */
export function tokensOf(
  tokens: ReadonlyMap<string, TokenRecord>,
  userid: string,
): TokenListItem[] {
  return [...tokens]
    .filter(([tokenid]) => parseTokenId(tokenid).userId === userid)
    .map(([tokenid, record]) => tokenListItem(tokenid, record))
    .sort((a, b) => (a.tokenid < b.tokenid ? -1 : 1));
}

export function userListItem(file: UserFile, userid: string, withTokens: boolean): UserListItem {
  const record = file.users.get(userid);
  if (record === undefined) throw new AuthError("not-found", `no user ${userid}`);
  const item: UserListItem = { userid, ...record };
  if (withTokens) item.tokens = tokensOf(file.tokens, userid);
  return item;
}
