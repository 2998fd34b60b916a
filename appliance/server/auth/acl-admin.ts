import { grantRole, revokeRole } from "./acl.js";
import { formatAclPath, parseAclPath } from "./acl-path.js";
import type { AuthConfig } from "./auth-config.js";
import { parseAuthId } from "./auth-id.js";
import { AuthError } from "./errors.js";
import type { RoleName } from "./privileges.js";

export interface AclChange {
  path: string;
  authId: string;
  role: RoleName;
  propagate: boolean;
  /** Remove the role instead of granting it. */
  delete: boolean;
}

/** Grants or revokes one role; granting needs an existing user or token. */
export async function changeAcl(config: AuthConfig, change: AclChange): Promise<void> {
  const path = formatAclPath(parseAclPath(change.path));
  const { authId, tokenName } = parseAuthId(change.authId);
  await config.change(async () => {
    const acl = await config.acl.read();
    if (change.delete) {
      await config.acl.write(revokeRole(acl, { path, ugid: authId, role: change.role }));
      return;
    }
    const { users, tokens } = await config.users.read();
    if (!(tokenName === undefined ? users.has(authId) : tokens.has(authId))) {
      throw new AuthError(
        "not-found",
        `no ${tokenName === undefined ? "user" : "token"} ${authId}`,
      );
    }
    const entry = { path, ugid: authId, role: change.role, propagate: change.propagate };
    await config.acl.write(grantRole(acl, entry));
  });
}
