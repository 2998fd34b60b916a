/**
 * Building blocks of route parameter schemas. Query strings and form bodies deliver every value as
 * a string, JSON bodies as typed values: numbers and booleans accept both spellings. Each block
 * carries its rule in the error message, so a 400 says what a parameter must look like.
 */
import { z } from "zod";
import { MAX_BACKUP_TIME, MIN_BACKUP_TIME, parseNamespace } from "../../datastore/names.js";
import { wireBoolean as apiBoolean, wireInteger as apiInteger } from "../../schema/wire-values.js";

export { apiBoolean, apiInteger };

/** One value or a list of them (a query string repeats the key for a list). */
export function apiList<T extends z.ZodType>(item: T) {
  return z.preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(item));
}

/** PBS's safe-id: ASCII letters, digits, '.', '_', '-', not starting with '.' or '-'. */
export const SAFE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const SAFE_ID_RULE =
  "must start with a letter, digit or '_' and contain only letters, digits, '.', '_' and '-'";

export function safeId(min: number, max: number) {
  const length = `must be ${min} to ${max} characters long`;
  return z
    .string({ error: "must be a string" })
    .min(min, { error: length })
    .max(max, { error: length })
    .regex(SAFE_ID_PATTERN, { error: SAFE_ID_RULE });
}

/** Text of at most `max` characters on one line (comments, schedules). */
export function singleLine(max: number) {
  return z
    .string({ error: "must be a string" })
    .max(max, { error: `must be at most ${max} characters long` })
    .regex(/^[^\p{Cc}]*$/u, { error: "must not contain control characters or line breaks" });
}

export const storeName = safeId(3, 32).describe("Datastore name.");
export const backupType = z
  .enum(["ct", "host", "vm"], { error: "must be one of ct, host, vm" })
  .describe("Backup type.");
export const backupId = safeId(1, 255).describe("Backup ID.");
export const backupTime = apiInteger(MIN_BACKUP_TIME, MAX_BACKUP_TIME).describe(
  "Backup time (Unix epoch).",
);

/**
 * A namespace in display form `a/b/c` ("" is the root). It stays a string (ACL paths are filled
 * from it); handlers turn it into components with `parseNamespace`.
 */
export const namespace = z
  .string({ error: "must be a string" })
  .max(256, { error: "must be at most 256 characters long" })
  .superRefine((text, ctx) => {
    try {
      parseNamespace(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  })
  .describe("Namespace, components separated by '/' (empty: the root namespace).");

export const archiveName = z
  .string({ error: "must be a string" })
  .max(200, { error: "must be at most 200 characters long" })
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*\.(fidx|didx|blob)$/, {
    error: "must be a file name ending in .fidx, .didx or .blob",
  })
  .describe("Archive file name.");

export const digestHex = z
  .string({ error: "must be a string" })
  .regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex characters" });

/** `user@realm` or `user@realm!token`. */
export const authId = z
  .string({ error: "must be a string" })
  .max(128, { error: "must be at most 128 characters long" })
  .regex(
    /^[^\s:/!@\p{Cc}][^\s:/!@\p{Cc}]*@[A-Za-z0-9_][A-Za-z0-9._-]*(?:![A-Za-z0-9_][A-Za-z0-9._-]*)?$/u,
    { error: "must be an auth id like user@realm or user@realm!token" },
  )
  .describe("Authentication ID.");

/** The keep-* retention options, each at least 1 (PBS's KeepOptions). */
export const keepOptions = {
  "keep-last": apiInteger(1).optional().describe("Number of backups to keep."),
  "keep-hourly": apiInteger(1).optional().describe("Number of hourly backups to keep."),
  "keep-daily": apiInteger(1).optional().describe("Number of daily backups to keep."),
  "keep-weekly": apiInteger(1).optional().describe("Number of weekly backups to keep."),
  "keep-monthly": apiInteger(1).optional().describe("Number of monthly backups to keep."),
  "keep-yearly": apiInteger(1).optional().describe("Number of yearly backups to keep."),
};

export type KeepParameters = {
  [K in keyof typeof keepOptions]?: number;
};

/** The datastore layer's PruneOptions from the keep-* parameters. */
export function toPruneOptions(params: KeepParameters) {
  return {
    keepLast: params["keep-last"],
    keepHourly: params["keep-hourly"],
    keepDaily: params["keep-daily"],
    keepWeekly: params["keep-weekly"],
    keepMonthly: params["keep-monthly"],
    keepYearly: params["keep-yearly"],
  };
}
