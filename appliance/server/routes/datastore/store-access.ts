import type { Datastore } from "../../../datastore/datastore.js";
import { groupPath, type Namespace } from "../../../datastore/names.js";
import { ownerMatches } from "../../../datastore/owner.js";
import { forbidden } from "../../api/api-errors.js";
import type { AuthInfo, RoutePermission } from "../../api/route.js";
import { holdsPrivileges } from "../../request-access.js";
import type { ServerServices } from "../services.js";
import { aclPathOf, STORE_ACL_PATH } from "./params.js";

/**
 * PBS's two-tier datastore permissions: `full` privileges act on every group, `owned` only on
 * groups the caller owns. The route admits holders of either; handlers narrow by ownership.
 */
export interface AccessRule {
  full: readonly string[];
  owned?: string;
}

export function routePermission(rule: AccessRule): RoutePermission {
  return {
    kind: "privileges",
    path: STORE_ACL_PATH,
    privileges: rule.owned ? [...rule.full, rule.owned] : [...rule.full],
    any: true,
  };
}

/** Whether the caller holds one of the rule's `full` privileges on the namespace. */
export function hasFullAccess(
  services: ServerServices,
  auth: AuthInfo | undefined,
  store: string,
  ns: Namespace,
  rule: AccessRule,
): Promise<boolean> {
  if (rule.full.length === 0) return Promise.resolve(false);
  return holdsPrivileges(services.access, auth, aclPathOf(store, ns), rule.full, true);
}

/** Throws 403 unless the caller has full access or owns the group (through the `owned` privilege). */
export async function requireGroupAccess(
  services: ServerServices,
  auth: AuthInfo | undefined,
  target: {
    storeName: string;
    store: Datastore;
    ns: Namespace;
    type: "ct" | "host" | "vm";
    id: string;
  },
  rule: AccessRule,
): Promise<void> {
  if (await hasFullAccess(services, auth, target.storeName, target.ns, rule)) return;
  const owner = await target.store.getOwner(target.ns, target.type, target.id);
  if (auth && ownerMatches(owner, auth.authId)) return;
  throw forbidden(
    `permission check failed - ${auth?.authId ?? "nobody"} does not own backup group ${groupPath(target.ns, target.type, target.id)} and lacks ${rule.full.join(" or ")}`,
  );
}

/** The privileges of each datastore operation, as PBS requires them. */
export const RULES = {
  list: { full: ["Datastore.Audit"], owned: "Datastore.Backup" },
  read: { full: ["Datastore.Audit", "Datastore.Read"], owned: "Datastore.Backup" },
  download: { full: ["Datastore.Read"], owned: "Datastore.Backup" },
  remove: { full: ["Datastore.Modify"], owned: "Datastore.Prune" },
  modify: { full: ["Datastore.Modify"], owned: "Datastore.Backup" },
  verify: { full: ["Datastore.Verify"], owned: "Datastore.Backup" },
  backup: { full: [], owned: "Datastore.Backup" },
  audit: { full: ["Datastore.Audit"] },
  gc: { full: ["Datastore.Modify"] },
  namespaceModify: { full: ["Datastore.Modify"] },
} as const satisfies Record<string, AccessRule>;
