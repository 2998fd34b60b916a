/**
 * The notification configuration as `notifications.json` stores it: targets (sendmail, webhook)
 * and matchers that route notifications to them, in PBS's field names (kebab-case), keyed by name.
 */
import { z } from "zod";
import { SEVERITIES } from "./notification.js";

export const NOTIFICATIONS_FILE = "notifications.json";

const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
export const notificationNameSchema = z.string().min(2).max(32).regex(SAFE_ID);

const line = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, "must not contain control characters or line breaks");

/** One address, without the characters that would let it add a header or a recipient. */
export const mailAddressSchema = z
  .string()
  .max(254)
  .regex(
    /^[^\s@,;<>"()\\-][^\s@,;<>"()\\]*@[^\s@,;<>"()\\]+$/,
    "must be a mail address like admin@example.com",
  );

/** `Name: value`, the name an HTTP token. */
export const webhookHeaderSchema = line(2048).regex(
  /^[!#$%&'*+.^_`|~0-9A-Za-z-]+: ?.*$/,
  "must look like 'Name: value'",
);

export const webhookUrlSchema = line(2048).refine((text) => {
  try {
    return ["http:", "https:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}, "must be an http:// or https:// URL");

/** `exact:type=verify,gc` or `regex:datastore=^store`: a field of the notification and its values. */
export const matchFieldSchema = line(512).superRefine((text, ctx) => {
  const parsed = /^(exact|regex):([a-z][a-z0-9-]*)=(.*)$/.exec(text);
  if (parsed === null) {
    ctx.addIssue({
      code: "custom",
      message: "must be exact:<field>=<value>[,…] or regex:<field>=<re>",
    });
    return;
  }
  if (parsed[1] === "regex") {
    try {
      new RegExp(parsed[3]!);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  }
});

export const sendmailTargetSchema = z.strictObject({
  mailto: z.array(mailAddressSchema).min(1),
  "from-address": mailAddressSchema.optional(),
  author: line(128).optional(),
  comment: line(1024).optional(),
  disable: z.boolean().optional(),
});
export type SendmailTarget = z.infer<typeof sendmailTargetSchema>;

export const webhookTargetSchema = z.strictObject({
  url: webhookUrlSchema,
  header: z.array(webhookHeaderSchema).optional(),
  /** Signs each body (HMAC-SHA256); never shown by the API nor sent. */
  secret: line(1024).min(1).optional(),
  comment: line(1024).optional(),
  disable: z.boolean().optional(),
});
export type WebhookTarget = z.infer<typeof webhookTargetSchema>;

export const matcherSchema = z.strictObject({
  target: z.array(notificationNameSchema).min(1),
  "match-severity": z.array(z.enum(SEVERITIES)).optional(),
  "match-field": z.array(matchFieldSchema).optional(),
  /** Whether every match-* rule must hold (`all`, the default) or one is enough. */
  mode: z.enum(["all", "any"]).optional(),
  "invert-match": z.boolean().optional(),
  comment: line(1024).optional(),
  disable: z.boolean().optional(),
});
export type Matcher = z.infer<typeof matcherSchema>;

export const notificationsFileSchema = z.strictObject({
  sendmail: z.record(notificationNameSchema, sendmailTargetSchema),
  webhook: z.record(notificationNameSchema, webhookTargetSchema),
  matcher: z.record(notificationNameSchema, matcherSchema),
});
export type NotificationsConfig = z.infer<typeof notificationsFileSchema>;

export function emptyNotificationsConfig(): NotificationsConfig {
  return { sendmail: {}, webhook: {}, matcher: {} };
}

export type TargetType = "sendmail" | "webhook";
export const TARGET_TYPES: readonly TargetType[] = ["sendmail", "webhook"];

/** A target by name, whichever type it is. */
export function findTarget(
  config: NotificationsConfig,
  name: string,
):
  | { type: "sendmail"; target: SendmailTarget }
  | { type: "webhook"; target: WebhookTarget }
  | undefined {
  if (Object.hasOwn(config.sendmail, name)) {
    return { type: "sendmail", target: config.sendmail[name]! };
  }
  if (Object.hasOwn(config.webhook, name))
    return { type: "webhook", target: config.webhook[name]! };
  return undefined;
}
