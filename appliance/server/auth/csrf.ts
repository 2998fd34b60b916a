import { createHmac, timingSafeEqual } from "node:crypto";
import { AuthError } from "./errors.js";
import { hex8, TICKET_LIFETIME_SECONDS, TICKET_MIN_AGE_SECONDS } from "./ticket.js";

function csrfDigest(secret: Buffer, userId: string, timeHex: string): Buffer {
  return createHmac("sha3-256", secret).update(`${timeHex}:${userId}:`).digest();
}

/** `<HEX8 epoch>:<base64 HMAC-SHA3-256 over "<HEX8>:<userid>:">`, bound to one user. */
export function createCsrfToken(userId: string, secret: Buffer, nowSeconds: number): string {
  const time = hex8(nowSeconds);
  return `${time}:${csrfDigest(secret, userId, time).toString("base64").replace(/=+$/, "")}`;
}

function badCsrf(problem: string): AuthError {
  return new AuthError("bad-csrf", `invalid CSRF prevention token - ${problem}`);
}

/** Checks that the token was made for this user by this server and is within a ticket's lifetime. */
export function verifyCsrfToken(
  token: string,
  userId: string,
  secret: Buffer,
  nowSeconds: number,
): void {
  const match = /^([0-9A-F]{8,16}):([A-Za-z0-9+/]+)$/.exec(token);
  if (match === null) throw badCsrf("expected <HEX8 time>:<base64 signature>");
  const [, time, signature] = match as unknown as [string, string, string];
  const given = Buffer.from(signature, "base64");
  const expected = csrfDigest(secret, userId, time);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw badCsrf("bad signature");
  }
  const age = nowSeconds - Number.parseInt(time, 16);
  if (age < TICKET_MIN_AGE_SECONDS) throw badCsrf("timestamp newer than expected");
  if (age > TICKET_LIFETIME_SECONDS) throw badCsrf("timestamp too old");
}
