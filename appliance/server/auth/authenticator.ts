import { randomUUID } from "node:crypto";
import type { AuthInfo } from "../api/route.js";
import { isAccountActive } from "./account-state.js";
import type { AuthConfig } from "./auth-config.js";
import { parseTokenId, parseUserId } from "./auth-id.js";
import { createCsrfToken, verifyCsrfToken } from "./csrf.js";
import { AuthError } from "./errors.js";
import type { AuthKeys } from "./keys.js";
import { LoginRateLimiter, type LoginRateLimitOptions } from "./login-rate-limit.js";
import { hashSecret, PASSWORD_COST, type ScryptCost, verifySecret } from "./password-hash.js";
import { extractCredentials, type RequestHeaders } from "./request-credentials.js";
import { createTicket, TICKET_PREFIX, verifyTicket } from "./ticket.js";

/** The parts of an HTTP request authentication looks at. */
export interface AuthRequest {
  method: string;
  headers: RequestHeaders;
  remoteAddress: string;
}

/** The answer of `POST /access/ticket`, shaped as PBS sends it. */
export interface LoginResult {
  username: string;
  ticket: string;
  CSRFPreventionToken: string;
}

/** Where failed logins are reported (a pino logger fits). */
export interface AuthLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface AuthenticatorOptions {
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /** scrypt cost of new password hashes (and of the decoy hash for unknown users). */
  passwordCost?: ScryptCost;
  rateLimit?: Partial<LoginRateLimitOptions>;
  log?: AuthLog;
}

/** Checks who a request comes from (ticket or API token) and logs users in. */
export class Authenticator {
  readonly #now: () => number;
  readonly #limiter: LoginRateLimiter;
  readonly #log: AuthLog | undefined;
  readonly #decoyHash: Promise<string>;

  constructor(
    private readonly config: AuthConfig,
    private readonly keys: AuthKeys,
    options: AuthenticatorOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#limiter = new LoginRateLimiter(options.rateLimit);
    this.#log = options.log;
    // made up front so the first unknown-user login costs no more than any other
    this.#decoyHash = hashSecret(randomUUID(), options.passwordCost ?? PASSWORD_COST);
    this.#decoyHash.catch(() => {});
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /**
   * Checks a password (or a still valid ticket of the same user, to renew it) and issues a ticket
   * and CSRF token. Every failure looks the same to the caller and counts against its address.
   */
  async login(username: string, password: string, remoteAddress: string): Promise<LoginResult> {
    const now = this.#nowSeconds();
    this.#limiter.acquire(remoteAddress, now);
    let failure: string | undefined;
    try {
      failure = await this.#loginFailure(username, password, now);
    } finally {
      this.#limiter.release(remoteAddress);
    }
    if (failure !== undefined) {
      this.#limiter.recordFailure(remoteAddress, now);
      this.#log?.warn({ username, remoteAddress, reason: failure }, "failed login");
      throw new AuthError("login-failed", "authentication failed - invalid credentials");
    }
    return this.issueTicket(username);
  }

  /** A fresh ticket and CSRF token for a user (after it proved who it is). */
  issueTicket(userId: string): LoginResult {
    const now = this.#nowSeconds();
    return {
      username: userId,
      ticket: createTicket(userId, this.keys.ticketSigningKey, now),
      CSRFPreventionToken: createCsrfToken(userId, this.keys.csrfSecret, now),
    };
  }

  /** Why the login fails, or undefined when it succeeds. */
  async #loginFailure(
    username: string,
    password: string,
    now: number,
  ): Promise<string | undefined> {
    let userId: string | undefined;
    try {
      userId = parseUserId(username, "username").userId;
    } catch {
      userId = undefined;
    }
    const users = (await this.config.users.read()).users;
    if (userId !== undefined && password.startsWith(`${TICKET_PREFIX}:`)) {
      const ticketUser = this.#ticketUser(password, now);
      if (ticketUser !== undefined) {
        if (ticketUser !== userId) return "ticket of another user";
        return isAccountActive(users.get(userId), now) ? undefined : "account disabled or expired";
      }
    }
    const hash =
      userId === undefined ? undefined : (await this.config.passwords.read()).get(userId);
    // hash even for unknown users, so the answer's timing doesn't tell which users exist
    const matches = await verifySecret(password, hash ?? (await this.#decoyHash));
    if (hash === undefined || !users.has(userId!)) return "unknown user or no password set";
    if (!matches) return "wrong password";
    return isAccountActive(users.get(userId!), now) ? undefined : "account disabled or expired";
  }

  #ticketUser(ticket: string, now: number): string | undefined {
    try {
      return verifyTicket(ticket, this.keys.ticketVerifyKey, now);
    } catch {
      return undefined;
    }
  }

  /**
   * Who sent the request: undefined without credentials; throws a 401 AuthError for a bad or
   * expired ticket, a missing or bad CSRF token on a non-GET request with a ticket, an unknown
   * token, a wrong secret, or a disabled or expired user or token.
   */
  async authenticate(request: AuthRequest): Promise<AuthInfo | undefined> {
    const credentials = extractCredentials(request.headers);
    if (credentials === undefined) return undefined;
    const now = this.#nowSeconds();
    if (credentials.kind === "token") {
      return this.#authenticateToken(credentials.tokenId, credentials.secret, now);
    }
    const userId = verifyTicket(credentials.ticket, this.keys.ticketVerifyKey, now);
    const users = (await this.config.users.read()).users;
    if (!users.has(userId)) throw new AuthError("bad-ticket", `invalid ticket - no user ${userId}`);
    if (!isAccountActive(users.get(userId), now)) {
      throw new AuthError("inactive", "user account disabled or expired", { authId: userId });
    }
    if (request.method.toUpperCase() !== "GET") {
      if (credentials.csrfToken === undefined) {
        throw new AuthError("bad-csrf", "missing CSRF prevention token");
      }
      verifyCsrfToken(credentials.csrfToken, userId, this.keys.csrfSecret, now);
    }
    return { authId: userId, userId };
  }

  async #authenticateToken(tokenId: string, secret: string, now: number): Promise<AuthInfo> {
    let parsed: ReturnType<typeof parseTokenId>;
    try {
      parsed = parseTokenId(tokenId, "API token id");
    } catch (err) {
      throw new AuthError("bad-token", (err as Error).message, {}, { cause: err });
    }
    const { users, tokens } = await this.config.users.read();
    const token = tokens.get(tokenId);
    if (token === undefined) throw new AuthError("bad-token", `unknown API token ${tokenId}`);
    if (!isAccountActive(users.get(parsed.userId), now) || !isAccountActive(token, now)) {
      throw new AuthError("inactive", "user account or API token disabled or expired", {
        authId: tokenId,
      });
    }
    const hash = (await this.config.tokenSecrets.read()).get(tokenId);
    if (hash === undefined || !(await verifySecret(secret, hash))) {
      throw new AuthError("bad-token", `wrong secret for API token ${tokenId}`);
    }
    return { authId: tokenId, userId: parsed.userId, tokenName: parsed.tokenName! };
  }
}
