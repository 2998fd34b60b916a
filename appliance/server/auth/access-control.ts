import type { AuthInfo, RoutePermission } from "../api/route.js";
import { isAccountActive } from "./account-state.js";
import { AuthConfig } from "./auth-config.js";
import { parseTokenId } from "./auth-id.js";
import { Authenticator, type AuthenticatorOptions, type AuthRequest } from "./authenticator.js";
import { Authorizer } from "./authorizer.js";
import { loadOrCreateAuthKeys } from "./keys.js";
import { PASSWORD_COST, type ScryptCost } from "./password-hash.js";

/**
 * Authentication and authorization over one config directory: what the transport calls for every
 * request, and what the access routes work on.
 */
export class AccessControl {
  private constructor(
    readonly config: AuthConfig,
    readonly authenticator: Authenticator,
    readonly authorizer: Authorizer,
    readonly passwordCost: ScryptCost,
  ) {}

  /** Loads (and on first start creates) the config directory's files and keys. */
  static async open(configDir: string, options: AuthenticatorOptions = {}): Promise<AccessControl> {
    const config = await AuthConfig.open(configDir);
    const keys = await loadOrCreateAuthKeys(configDir);
    return new AccessControl(
      config,
      new Authenticator(config, keys, options),
      new Authorizer(config),
      options.passwordCost ?? PASSWORD_COST,
    );
  }

  /** Who sent the request, undefined without credentials; throws 401 on bad credentials. */
  authenticate(request: AuthRequest): Promise<AuthInfo | undefined> {
    return this.authenticator.authenticate(request);
  }

  /** Whether a user or API token exists, is enabled and has not expired (and, for a token, its user). */
  async isActiveAuthId(authId: string): Promise<boolean> {
    const { users, tokens } = await this.config.users.read();
    const now = Math.floor(Date.now() / 1000);
    if (!authId.includes("!")) return isAccountActive(users.get(authId), now);
    const token = parseTokenId(authId);
    return (
      isAccountActive(users.get(token.userId), now) && isAccountActive(tokens.get(authId), now)
    );
  }

  /** Enforces a route's permission with its validated parameters; throws 401 or 403. */
  checkPermission(
    auth: AuthInfo | undefined,
    permission: RoutePermission,
    params: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    return this.authorizer.checkPermission(auth, permission, params);
  }
}
