import { z } from "zod";
import { type Namespace, parseNamespace } from "../../../datastore/names.js";
import type { SnapshotRef } from "../../../datastore/snapshots.js";
import { backupId, backupTime, backupType, namespace, storeName } from "../../api/schema-types.js";

/** Parameters naming a datastore and namespace; the ACL path is `/datastore/{store}/{ns}`. */
export const storeParams = { store: storeName, ns: namespace.optional() };
export const groupParams = { ...storeParams, "backup-type": backupType, "backup-id": backupId };
export const snapshotParams = { ...groupParams, "backup-time": backupTime };

export const STORE_ACL_PATH = "/datastore/{store}/{ns}";

export const snapshotSchema = z.strictObject(snapshotParams);
export const groupSchema = z.strictObject(groupParams);

export interface StoreParams {
  store: string;
  ns?: string | undefined;
}

export interface GroupParams extends StoreParams {
  "backup-type": "ct" | "host" | "vm";
  "backup-id": string;
}

export interface SnapshotParams extends GroupParams {
  "backup-time": number;
}

export function namespaceOf(params: StoreParams): Namespace {
  return parseNamespace(params.ns ?? "");
}

export function snapshotRefOf(params: SnapshotParams): SnapshotRef {
  return {
    ns: namespaceOf(params),
    type: params["backup-type"],
    id: params["backup-id"],
    time: params["backup-time"],
  };
}

/** The concrete ACL path of a store and namespace. */
export function aclPathOf(store: string, ns: Namespace): string {
  return ns.length === 0 ? `/datastore/${store}` : `/datastore/${store}/${ns.join("/")}`;
}
