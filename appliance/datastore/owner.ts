import { badName } from "./errors.js";

/** Owners of backup groups: PBS auth ids, one line in the group's `owner` file. */

/** Auth ids as PBS writes them: `user@realm` or `user@realm!token`. */
const AUTH_ID =
  /^[^\s:/!@\p{Cc}][^\s:/!\p{Cc}]*@[A-Za-z0-9_][A-Za-z0-9._-]*(?:![A-Za-z0-9_][A-Za-z0-9._-]*)?$/u;
const MAX_AUTH_ID_LENGTH = 128;

/** Validates a backup group owner (an auth id); it goes into a one-line file. */
export function validateOwner(value: unknown): string {
  if (typeof value !== "string" || value.length > MAX_AUTH_ID_LENGTH || !AUTH_ID.test(value)) {
    throw badName("owner", value, "must be an auth id like user@realm or user@realm!token");
  }
  return value;
}

/** PBS's rule: the owner itself, or a user writing to a group one of its own tokens owns. */
export function ownerMatches(owner: string, authId: string): boolean {
  if (owner === authId) return true;
  return !authId.includes("!") && owner.startsWith(`${authId}!`);
}
