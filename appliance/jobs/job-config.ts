/**
 * Prune and verify job configurations as their files store them (PBS's prune.cfg and
 * verification.cfg fields, kebab-case), keyed by job id.
 */
import { z } from "zod";
import { parseNamespace } from "../datastore/names.js";
import { CalendarEvent } from "./calendar-event.js";

const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
export const jobIdSchema = z.string().min(3).max(32).regex(SAFE_ID);

const line = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\p{Cc}]*$/u);

/** A calendar event, checked by the parser so a bad one never reaches the file. */
export const scheduleSchema = line(256).superRefine((text, ctx) => {
  try {
    CalendarEvent.parse(text);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

const namespaceSchema = z
  .string()
  .max(256)
  .superRefine((text, ctx) => {
    try {
      parseNamespace(text);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  });

const keep = z.number().int().min(1).optional();

export const pruneJobSchema = z.strictObject({
  store: z.string().min(3).max(32).regex(SAFE_ID),
  ns: namespaceSchema.optional(),
  "max-depth": z.number().int().min(0).max(7).optional(),
  "keep-last": keep,
  "keep-hourly": keep,
  "keep-daily": keep,
  "keep-weekly": keep,
  "keep-monthly": keep,
  "keep-yearly": keep,
  schedule: scheduleSchema,
  disable: z.boolean().optional(),
  comment: line(1024).optional(),
});
export type PruneJobConfig = z.infer<typeof pruneJobSchema>;

export const verifyJobSchema = z.strictObject({
  store: z.string().min(3).max(32).regex(SAFE_ID),
  ns: namespaceSchema.optional(),
  "max-depth": z.number().int().min(0).max(7).optional(),
  "ignore-verified": z.boolean().optional(),
  "outdated-after": z.number().int().min(1).optional(),
  schedule: scheduleSchema.optional(),
  comment: line(1024).optional(),
});
export type VerifyJobConfig = z.infer<typeof verifyJobSchema>;

export const pruneJobFileSchema = z.strictObject({ prune: z.record(jobIdSchema, pruneJobSchema) });
export const verifyJobFileSchema = z.strictObject({
  verify: z.record(jobIdSchema, verifyJobSchema),
});

export const PRUNE_JOB_FILE = "prune.json";
export const VERIFY_JOB_FILE = "verify.json";
