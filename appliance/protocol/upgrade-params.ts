import { z } from "zod";
import {
  MAX_BACKUP_TIME,
  MIN_BACKUP_TIME,
  type Namespace,
  parseNamespace,
  validateBackupId,
  validateDatastoreName,
} from "../datastore/names.js";
import type { SnapshotRef } from "../datastore/snapshots.js";
import { flag, wholeNumber } from "./call-params.js";

/** A string the datastore's own validator accepts; its refusal is the parameter's message. */
function validatedBy(validate: (value: unknown) => unknown) {
  return z.string({ error: "must be a string" }).superRefine((value, ctx) => {
    try {
      validate(value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  });
}

const snapshotParameters = {
  store: validatedBy(validateDatastoreName),
  /** Display form `a/b`; empty or absent is the root namespace. */
  ns: validatedBy(parseNamespace).optional(),
  "backup-type": z.enum(["ct", "host", "vm"], { error: "must be one of ct, host, vm" }),
  "backup-id": validatedBy(validateBackupId),
  "backup-time": wholeNumber(MIN_BACKUP_TIME, MAX_BACKUP_TIME),
  debug: flag().optional(),
};

/** `GET /api2/json/backup?…` (pbs-formats.md §8). */
export const backupUpgradeParameters = z.strictObject({
  ...snapshotParameters,
  benchmark: flag().optional(),
});

/** `GET /api2/json/reader?…`. */
export const readerUpgradeParameters = z.strictObject(snapshotParameters);

export type BackupUpgradeParameters = z.infer<typeof backupUpgradeParameters>;
export type ReaderUpgradeParameters = z.infer<typeof readerUpgradeParameters>;

/** The ACL path both protocols are checked on: `/datastore/{store}[/{ns…}]`. */
export const STORE_ACL_PATH = "/datastore/{store}/{ns}";

export function namespaceOf(params: { ns?: string | undefined }): Namespace {
  return parseNamespace(params.ns ?? "");
}

export function snapshotRefOf(params: ReaderUpgradeParameters): SnapshotRef {
  return {
    ns: namespaceOf(params),
    type: params["backup-type"],
    id: params["backup-id"],
    time: params["backup-time"],
  };
}

/** The ACL path of a store and namespace, filled in. */
export function aclPathOf(store: string, ns: Namespace): string {
  return ["/datastore", store, ...ns].join("/");
}
