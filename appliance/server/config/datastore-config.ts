import { isAbsolute, normalize } from "node:path";
import { z } from "zod";
import { SAFE_ID_PATTERN } from "../api/schema-types.js";
import { parseTuning } from "./datastore-tuning.js";
import { JsonConfigFile } from "./json-config-file.js";

export const DATASTORE_CONFIG_FILE = "datastore.json";

/** Absolute and normalised, so one directory has one spelling; never the root directory. */
export function datastorePathProblem(path: string): string | undefined {
  if (!isAbsolute(path)) return "must be an absolute path";
  if (path === "/" || normalize(path) !== path || path.endsWith("/")) {
    return "must be a normalised absolute path (no '.', '..', '//' or trailing '/') below /";
  }
  if (/\p{Cc}/u.test(path)) return "must not contain control characters";
  return undefined;
}

const keepCount = z.number().int().min(1);
const line = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\p{Cc}]*$/u);

/** One datastore as `datastore.json` stores it (PBS's datastore.cfg fields, kebab-case). */
export const datastoreEntrySchema = z.strictObject({
  path: z.string().superRefine((path, ctx) => {
    const problem = datastorePathProblem(path);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  comment: line(1024).optional(),
  "gc-schedule": line(256).optional(),
  "prune-schedule": line(256).optional(),
  "keep-last": keepCount.optional(),
  "keep-hourly": keepCount.optional(),
  "keep-daily": keepCount.optional(),
  "keep-weekly": keepCount.optional(),
  "keep-monthly": keepCount.optional(),
  "keep-yearly": keepCount.optional(),
  "verify-new": z.boolean().optional(),
  tuning: z
    .string()
    .superRefine((text, ctx) => {
      try {
        parseTuning(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    })
    .optional(),
});

export type DatastoreEntry = z.infer<typeof datastoreEntrySchema>;
/** A datastore with its name, as the API lists it. */
export type DatastoreConfig = DatastoreEntry & { name: string };

export const datastoreFileSchema = z.strictObject({
  datastore: z.record(z.string().regex(SAFE_ID_PATTERN).min(3).max(32), datastoreEntrySchema),
});

export type DatastoreFile = z.infer<typeof datastoreFileSchema>;

export function datastoreConfigFile(configDir: string) {
  return new JsonConfigFile(configDir, DATASTORE_CONFIG_FILE, datastoreFileSchema, () => ({
    datastore: {},
  }));
}

export type DatastoreConfigFile = ReturnType<typeof datastoreConfigFile>;

/** The datastores sorted by name, each with its name. */
export function listDatastores(file: DatastoreFile): DatastoreConfig[] {
  return Object.entries(file.datastore)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, entry]) => ({ name, ...entry }));
}
