import { ownerMatches } from "../../datastore/owner.js";
import type { AuthInfo } from "../api/route.js";

/**
 * Whether the caller may add snapshots to (or, with Datastore.Backup/Prune alone, see and prune)
 * a backup group owned by `owner`: its own groups, and for a user also those of its own tokens.
 * The rule itself lives with the datastore, which enforces it on every backup.
 */
export function mayUseGroup(auth: AuthInfo, owner: string): boolean {
  return ownerMatches(owner, auth.authId);
}
