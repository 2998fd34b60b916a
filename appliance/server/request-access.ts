import type { IncomingHttpHeaders } from "node:http";
import { ApiError } from "./api/api-errors.js";
import type { AuthInfo, RoutePermission } from "./api/route.js";

/** What authentication looks at: method (CSRF applies to non-GET), headers, source address. */
export interface CredentialSource {
  method: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * The seam to authentication and ACLs: `auth/access-control.ts`'s AccessControl satisfies it,
 * tests use a stand-in. Either method may throw a CairnError (401 for a bad ticket, 403 for a
 * missing privilege), which is answered with its status.
 */
export interface RequestAccess {
  /** The caller, or undefined for a request without credentials. */
  authenticate(request: CredentialSource): MaybePromise<AuthInfo | undefined>;
  /**
   * Enforces a permission; `{name}` placeholders in a privilege path are filled from `params`
   * (a namespace `a/b` adds two components). Refuses by throwing or by returning false; any
   * other result (true, or nothing at all) admits.
   */
  checkPermission(
    auth: AuthInfo | undefined,
    permission: RoutePermission,
    params: Readonly<Record<string, unknown>>,
  ): MaybePromise<unknown>;
  /** Whether a user or token exists and may be used now; absent where accounts aren't known. */
  isActiveAuthId?(authId: string): MaybePromise<boolean>;
}

function isForbidden(err: unknown): boolean {
  return (err as { httpStatus?: unknown }).httpStatus === 403;
}

/** Whether `auth` passes `permission`: false for a refusal, thrown for anything else. */
export async function passes(
  access: RequestAccess,
  auth: AuthInfo | undefined,
  permission: RoutePermission,
  params: Readonly<Record<string, unknown>>,
): Promise<boolean> {
  try {
    return (await access.checkPermission(auth, permission, params)) !== false;
  } catch (err) {
    if (isForbidden(err)) return false;
    throw err;
  }
}

/** Whether `auth` holds the privileges (all, or one with `any`) on a concrete ACL path. */
export function holdsPrivileges(
  access: RequestAccess,
  auth: AuthInfo | undefined,
  path: string,
  privileges: readonly string[],
  any = false,
): Promise<boolean> {
  if (auth === undefined) return Promise.resolve(false);
  return passes(access, auth, { kind: "privileges", path, privileges, any }, {});
}

/** Throws unless `auth` passes `permission` (the access module's own 401/403, or a plain 403). */
export async function enforcePermission(
  access: RequestAccess,
  auth: AuthInfo | undefined,
  permission: RoutePermission,
  params: Readonly<Record<string, unknown>>,
): Promise<void> {
  if ((await access.checkPermission(auth, permission, params)) === false) {
    throw new ApiError("forbidden", "permission check failed");
  }
}
