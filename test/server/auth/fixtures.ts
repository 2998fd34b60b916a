import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionContext } from "ava";
import type { z } from "zod";
import type { AuthInfo, Route } from "../../../appliance/server/api/route.js";
import { AccessControl } from "../../../appliance/server/auth/access-control.js";
import type { AuthenticatorOptions } from "../../../appliance/server/auth/authenticator.js";
import type { ScryptCost } from "../../../appliance/server/auth/password-hash.js";

/** Keeps tests fast; the format and code paths are the same as with the real cost. */
export const CHEAP_COST: ScryptCost = { log2N: 4, r: 8, p: 1 };

export const START_MS = 1_700_000_000_000;

export function tempDir(t: ExecutionContext, prefix = "cairn-auth-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An AccessControl over a fresh directory with a clock the test moves. */
export async function tempAccess(t: ExecutionContext, options: AuthenticatorOptions = {}) {
  const dir = tempDir(t);
  const clock = { ms: START_MS };
  const access = await AccessControl.open(dir, {
    now: () => clock.ms,
    passwordCost: CHEAP_COST,
    ...options,
  });
  return { access, dir, clock };
}

export const user = (userId: string): AuthInfo => ({ authId: userId, userId });
export const token = (userId: string, tokenName: string): AuthInfo => ({
  authId: `${userId}!${tokenName}`,
  userId,
  tokenName,
});

/** Calls a route as the router would after authentication: validate, check, run. */
export async function callRoute<S extends z.ZodType>(
  access: AccessControl,
  route: Route<S>,
  auth: AuthInfo | undefined,
  raw: Record<string, unknown>,
  remoteAddress = "192.0.2.10",
): Promise<unknown> {
  const params = route.parameters.parse(raw) as z.infer<S>;
  await access.checkPermission(auth, route.permission, params as Record<string, unknown>);
  const headers: Record<string, string> = {};
  return route.handler({
    auth,
    params,
    remoteAddress,
    setHeader: (name, value) => {
      headers[name] = value;
    },
  });
}
