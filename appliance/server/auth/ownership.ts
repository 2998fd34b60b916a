import type { AuthInfo } from "../api/route.js";
import { isTokenId, userOfAuthId } from "./auth-id.js";

/**
 * Whether the caller may add snapshots to (or, with Datastore.Backup/Prune alone, see and prune)
 * a backup group owned by `owner`: its own groups, and for a user also those of its own tokens.
 */
export function mayUseGroup(auth: AuthInfo, owner: string): boolean {
  if (owner === auth.authId) return true;
  return auth.tokenName === undefined && isTokenId(owner) && userOfAuthId(owner) === auth.userId;
}
