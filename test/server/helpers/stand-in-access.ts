import { CairnError } from "../../../appliance/errors.js";
import type { AuthInfo, RoutePermission } from "../../../appliance/server/api/route.js";
import type { CredentialSource, RequestAccess } from "../../../appliance/server/request-access.js";

/** Privileges an auth id holds on an ACL path and everything below it. */
export interface Grant {
  authId: string;
  path: string;
  privileges: string[];
}

export const TOKEN_SECRET = "secret";

/** The Authorization header the stand-in accepts for `authId`. */
export function tokenHeader(authId: string): Record<string, string> {
  return { authorization: `PBSAPIToken=${authId}:${TOKEN_SECRET}` };
}

function components(path: string): string[] {
  return path.split("/").filter((part) => part !== "");
}

/** Fills `{name}` placeholders; a value with slashes adds several components. */
export function fillPath(template: string, params: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const part of components(template)) {
    const placeholder = /^\{(.+)\}$/.exec(part)?.[1];
    if (placeholder === undefined) {
      out.push(part);
      continue;
    }
    const value = params[placeholder];
    if (value === undefined || value === "") break;
    out.push(...components(String(value)));
  }
  return out;
}

/**
 * A simple access control for tests: API-token-style credentials with a fixed secret, root@pam
 * holds everything, everyone else what the grants give (inherited downwards).
 */
export class StandInAccess implements RequestAccess {
  readonly calls: { permission: RoutePermission; params: Record<string, unknown> }[] = [];

  /** `accounts`: the auth ids that exist; without it every id counts as an active account. */
  constructor(
    private readonly grants: Grant[] = [],
    private readonly accounts?: readonly string[],
  ) {}

  isActiveAuthId(authId: string): boolean {
    return this.accounts === undefined || this.accounts.includes(authId);
  }

  authenticate(request: CredentialSource): AuthInfo | undefined {
    const header = request.headers.authorization;
    if (header === undefined) return undefined;
    const match = /^PBSAPIToken[= ]([^:]+):(.*)$/.exec(String(header));
    if (!match || match[2] !== TOKEN_SECRET) {
      throw new CairnError("CAIRN_E_TEST_BAD_TOKEN", "invalid API token", 401);
    }
    const authId = match[1]!;
    const [userId, tokenName] = authId.split("!");
    return { authId, userId: userId!, ...(tokenName !== undefined && { tokenName }) };
  }

  privilegesAt(authId: string, path: string[]): Set<string> {
    const held = new Set<string>();
    for (const grant of this.grants) {
      if (grant.authId !== authId) continue;
      const base = components(grant.path);
      if (base.every((part, i) => path[i] === part)) for (const p of grant.privileges) held.add(p);
    }
    return held;
  }

  checkPermission(
    auth: AuthInfo | undefined,
    permission: RoutePermission,
    params: Readonly<Record<string, unknown>>,
  ): boolean {
    this.calls.push({ permission, params: { ...params } });
    if (permission.kind === "anybody") return true;
    if (auth === undefined)
      throw new CairnError("CAIRN_E_TEST_NO_AUTH", "authentication required", 401);
    if (permission.kind === "authenticated") return true;
    if (auth.authId === "root@pam") return true;
    const held = this.privilegesAt(auth.authId, fillPath(permission.path, params));
    const has = permission.privileges.filter((p) => held.has(p));
    return permission.any ? has.length > 0 : has.length === permission.privileges.length;
  }
}
