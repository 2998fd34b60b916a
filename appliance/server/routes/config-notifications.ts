import { z } from "zod";
import { NotificationError } from "../../jobs/notifications/errors.js";
import { SEVERITIES, testNotification } from "../../jobs/notifications/notification.js";
import {
  emptyNotificationsConfig,
  findTarget,
  mailAddressSchema,
  matchFieldSchema,
  NOTIFICATIONS_FILE,
  type NotificationsConfig,
  notificationsFileSchema,
  TARGET_TYPES,
  webhookHeaderSchema,
  webhookUrlSchema,
} from "../../jobs/notifications/notification-config.js";
import type { Notifier } from "../../jobs/notifications/notifier.js";
import { badParameters } from "../api/api-errors.js";
import { defineRoute, type Route } from "../api/route.js";
import { apiBoolean, apiList, singleLine } from "../api/schema-types.js";
import { JsonConfigFile } from "../config/json-config-file.js";
import {
  type NotificationSection,
  type NotificationsFile,
  notificationName,
  notificationSectionRoutes,
} from "./config-notifications-crud.js";
import { PRIV } from "./privileges.js";

/** notifications.json: 0600, as webhook secrets live in it. */
export function notificationsFile(configDir: string): NotificationsFile {
  return new JsonConfigFile(
    configDir,
    NOTIFICATIONS_FILE,
    notificationsFileSchema,
    emptyNotificationsConfig,
    0o600,
  );
}

const COMMON = {
  comment: singleLine(1024).describe("Comment."),
  disable: apiBoolean().describe("Send nothing to (or through) it while set."),
};

/** A target name must be unique across target types, as matchers name targets alone. */
function checkTargetName(type: string) {
  return (config: NotificationsConfig, name: string) => {
    const other = findTarget(config, name);
    if (other !== undefined && other.type !== type) {
      throw new NotificationError("exists", `a ${other.type} target named ${name} exists`, {
        name,
      });
    }
  };
}

function matchersUsing(config: NotificationsConfig, name: string): string | undefined {
  const users = Object.entries(config.matcher)
    .filter(([, matcher]) => matcher.target.includes(name))
    .map(([matcher]) => matcher);
  return users.length === 0 ? undefined : `matcher ${users.join(", ")}`;
}

const SENDMAIL: NotificationSection = {
  path: "/endpoints/sendmail",
  section: "sendmail",
  title: "sendmail target",
  options: {
    mailto: apiList(mailAddressSchema).describe("Recipients."),
    "from-address": mailAddressSchema.describe("Sender address (default cairn@<hostname>)."),
    author: singleLine(128).describe("Sender name (default Cairn)."),
    ...COMMON,
  },
  required: ["mailto"],
  check: checkTargetName("sendmail"),
  usedBy: matchersUsing,
};

const WEBHOOK: NotificationSection = {
  path: "/endpoints/webhook",
  section: "webhook",
  title: "webhook target",
  options: {
    url: webhookUrlSchema.describe("URL the notification is POSTed to as JSON."),
    header: apiList(webhookHeaderSchema).describe("Extra HTTP headers, 'Name: value'."),
    secret: singleLine(1024)
      .min(1, { error: "must not be empty" })
      .describe("Key of the HMAC-SHA256 body signature (X-Cairn-Signature); never shown."),
    ...COMMON,
  },
  required: ["url"],
  hidden: ["secret"],
  check: checkTargetName("webhook"),
  usedBy: matchersUsing,
};

const MATCHER: NotificationSection = {
  path: "/matchers",
  section: "matcher",
  title: "matcher",
  options: {
    target: apiList(notificationName).describe("Targets to notify."),
    "match-severity": apiList(
      z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(", ")}` }),
    ).describe("Severities that match (default warning, error)."),
    "match-field": apiList(matchFieldSchema).describe(
      "Field rules: exact:type=verify,gc or regex:datastore=^store",
    ),
    mode: z
      .enum(["all", "any"], { error: "must be all or any" })
      .describe("Whether all rules must hold (default) or any."),
    "invert-match": apiBoolean().describe("Match what the rules do not."),
    ...COMMON,
  },
  required: ["target"],
  check: (config, _name, entry) => {
    const unknown = (entry.target as string[]).filter((name) => !findTarget(config, name));
    if (unknown.length > 0) throw badParameters({ target: `no target ${unknown.join(", ")}` });
  },
};

/** `/config/notifications/…`: targets (sendmail, webhook), matchers, and a test send. */
export function configNotificationRoutes(file: NotificationsFile, notifier: Notifier): Route[] {
  return [
    ...notificationSectionRoutes(file, SENDMAIL),
    ...notificationSectionRoutes(file, WEBHOOK),
    ...notificationSectionRoutes(file, MATCHER),
    defineRoute({
      method: "GET",
      path: "/config/notifications/targets",
      description: "List every notification target with its type.",
      parameters: z.strictObject({}),
      permission: {
        kind: "privileges",
        path: "/system/notifications",
        privileges: [PRIV.sysAudit],
      },
      handler: async () => {
        const { value } = await file.read();
        return TARGET_TYPES.flatMap((type) =>
          Object.entries(value[type]).map(([name, target]) => ({
            name,
            type,
            ...(target.comment !== undefined && { comment: target.comment }),
            ...(target.disable !== undefined && { disable: target.disable }),
          })),
        ).sort((a, b) => (a.name < b.name ? -1 : 1));
      },
    }),
    defineRoute({
      method: "POST",
      path: "/config/notifications/targets/{name}/test",
      description: "Send a test notification to one target; fails when it is not delivered.",
      parameters: z.strictObject({ name: notificationName }),
      permission: {
        kind: "privileges",
        path: "/system/notifications",
        privileges: [PRIV.sysModify],
      },
      handler: async ({ params }) => {
        const note = testNotification(
          params.name,
          notifier.hostname,
          Math.floor(Date.now() / 1000),
        );
        await notifier.send(params.name, note);
        return null;
      },
    }),
  ];
}
