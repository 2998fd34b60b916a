import { CairnError } from "../../errors.js";

/** What went wrong; each kind is its own `CAIRN_E_AUTH_…` code so callers can tell them apart. */
export type AuthErrorKind =
  | "unauthenticated"
  | "login-failed"
  | "bad-ticket"
  | "bad-csrf"
  | "bad-token"
  | "inactive"
  | "rate-limited"
  | "forbidden"
  | "bad-id"
  | "bad-acl-path"
  | "bad-request"
  | "not-found"
  | "exists"
  | "bad-config";

const HTTP_STATUS: Record<AuthErrorKind, number> = {
  unauthenticated: 401,
  "login-failed": 401,
  "bad-ticket": 401,
  "bad-csrf": 401,
  "bad-token": 401,
  inactive: 401,
  "rate-limited": 429,
  forbidden: 403,
  "bad-id": 400,
  "bad-acl-path": 400,
  "bad-request": 400,
  "not-found": 404,
  exists: 409,
  "bad-config": 500,
};

/** An authentication or authorization failure, or a refused change to the access configuration. */
export class AuthError extends CairnError {
  override name = "AuthError";

  constructor(
    readonly kind: AuthErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_AUTH_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}

/** A config file that can't be used; the message starts with the file name. */
export function badConfig(file: string, problem: string, cause?: unknown): AuthError {
  return new AuthError("bad-config", `${file}: ${problem}`, { file }, { cause });
}
