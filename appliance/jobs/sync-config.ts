/**
 * Sync jobs (PBS's sync.cfg) as `sync.json` stores them: kebab-case fields keyed by job id. A job
 * without `remote` syncs between two local datastores. A push job (`sync-direction` push) reads
 * `store`/`ns` and writes the remote's `remote-store`/`remote-ns`.
 */
import { z } from "zod";
import { parseNamespace } from "../datastore/names.js";
import { parseGroupFilter } from "./group-filter.js";
import { jobIdSchema, scheduleSchema } from "./job-config.js";
import { AUTH_ID_PATTERN, remoteNameSchema } from "./remote-config.js";

export const SYNC_JOB_FILE = "sync.json";
export const DEFAULT_SYNC_OWNER = "root@pam";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** Bytes of a PBS byte size (`1048576`, `10MiB`, `1.5 GB`); undefined when it is not one. */
export function parseByteSize(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const checked =
  (parse: (text: string) => unknown) =>
  (text: string, ctx: z.RefinementCtx): void => {
    try {
      parse(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  };

export const namespaceText = z.string().max(256).superRefine(checked(parseNamespace));
export const groupFilterText = z.string().max(1024).superRefine(checked(parseGroupFilter));
export const byteSizeText = z
  .union([z.string(), z.number()])
  .refine((value) => parseByteSize(value) !== undefined, "must be a byte size like 10MiB");

export const SYNC_DIRECTIONS = ["pull", "push"] as const;

export const syncJobSchema = z.strictObject({
  "sync-direction": z.enum(SYNC_DIRECTIONS).optional(),
  store: z
    .string()
    .min(3)
    .max(32)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/),
  ns: namespaceText.optional(),
  remote: remoteNameSchema.optional(),
  "remote-store": z
    .string()
    .min(3)
    .max(32)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/),
  "remote-ns": namespaceText.optional(),
  owner: z.string().max(128).regex(AUTH_ID_PATTERN).optional(),
  "remove-vanished": z.boolean().optional(),
  "max-depth": z.number().int().min(0).max(7).optional(),
  "group-filter": z.array(groupFilterText).optional(),
  "transfer-last": z.number().int().min(1).optional(),
  "rate-in": byteSizeText.optional(),
  "burst-in": byteSizeText.optional(),
  /** Push: bytes per second uploaded to the remote, and the burst allowed after a pause. */
  "rate-out": byteSizeText.optional(),
  "burst-out": byteSizeText.optional(),
  schedule: scheduleSchema.optional(),
  comment: z
    .string()
    .max(1024)
    .regex(/^[^\p{Cc}]*$/u)
    .optional(),
});
export type SyncJobConfig = z.infer<typeof syncJobSchema>;

export const syncJobFileSchema = z.strictObject({ sync: z.record(jobIdSchema, syncJobSchema) });
