import type { Command } from "commander";
import { type ApiParams, apiPath } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { booleanValue, collect } from "./manager-options.js";
import { printRows, showText, withOutputFormat } from "./manager-output.js";
import type { OutputFormat } from "./output.js";
import type { Column } from "./table.js";

type Item = Record<string, unknown> & { name: string };

const BASE = "/config/notifications";

const text = (value: unknown) =>
  showText(Array.isArray(value) ? value.join(",") : (value as string));

/** One section (`webhook`, `sendmail`, `matcher`) as create|list|update|remove. */
interface Section {
  command: string;
  path: string;
  description: string;
  /** Options of create and update, and the required ones on create. */
  withOptions(command: Command): Command;
  required: readonly string[];
  fields(options: Record<string, unknown>, creating: boolean): ApiParams;
  columns: Column<Item>[];
}

const COMMON_FIELDS = (options: Record<string, unknown>) => ({
  comment: options.comment as string | undefined,
  disable: options.disable as boolean | undefined,
});

function withCommon(command: Command): Command {
  return command
    .option("--comment <text>", "comment")
    .option("--disable [bool]", "send nothing while set", booleanValue);
}

const WEBHOOK: Section = {
  command: "webhook",
  path: "/endpoints/webhook",
  description: "targets that get each notification as a JSON POST",
  withOptions: (command) =>
    withCommon(
      command
        .option("--url <url>", "http:// or https:// URL (required on create)")
        .option("--header <header>", "extra header 'Name: value' (repeatable)", collect)
        .option(
          "--secret <key>",
          "HMAC-SHA256 signing key (default on create: $CAIRN_WEBHOOK_SECRET); never shown again",
        ),
    ),
  required: ["url"],
  fields: (options, creating) => ({
    url: options.url as string | undefined,
    header: options.header as string[] | undefined,
    // from the environment only on create, so an update never changes it unasked
    secret:
      (options.secret as string | undefined) ??
      (creating ? process.env.CAIRN_WEBHOOK_SECRET : undefined),
    ...COMMON_FIELDS(options),
  }),
  columns: [
    { header: "url", cell: (item) => text(item.url) },
    { header: "header", cell: (item) => text(item.header) },
  ],
};

const SENDMAIL: Section = {
  command: "sendmail",
  path: "/endpoints/sendmail",
  description: "mail targets, handed to the local sendmail",
  withOptions: (command) =>
    withCommon(
      command
        .option("--mailto <address>", "recipient (repeatable; required on create)", collect)
        .option("--from-address <address>", "sender address (default cairn@<hostname>)")
        .option("--author <name>", "sender name (default Cairn)"),
    ),
  required: ["mailto"],
  fields: (options) => ({
    mailto: options.mailto as string[] | undefined,
    "from-address": options.fromAddress as string | undefined,
    author: options.author as string | undefined,
    ...COMMON_FIELDS(options),
  }),
  columns: [
    { header: "mailto", cell: (item) => text(item.mailto) },
    { header: "from-address", cell: (item) => text(item["from-address"]) },
  ],
};

const MATCHER: Section = {
  command: "matcher",
  path: "/matchers",
  description: "rules that pick which notifications go to which targets",
  withOptions: (command) =>
    withCommon(
      command
        .option("--target <name>", "target to notify (repeatable; required on create)", collect)
        .option(
          "--match-severity <severity>",
          "info, notice, warning or error (repeatable; default warning and error)",
          collect,
        )
        .option(
          "--match-field <rule>",
          "exact:type=verify,gc or regex:datastore=^store (repeatable)",
          collect,
        )
        .option("--mode <mode>", "all (default) or any of the rules must hold")
        .option("--invert-match [bool]", "match what the rules do not", booleanValue),
    ),
  required: ["target"],
  fields: (options) => ({
    target: options.target as string[] | undefined,
    "match-severity": options.matchSeverity as string[] | undefined,
    "match-field": options.matchField as string[] | undefined,
    mode: options.mode as string | undefined,
    "invert-match": options.invertMatch as boolean | undefined,
    ...COMMON_FIELDS(options),
  }),
  columns: [
    { header: "target", cell: (item) => text(item.target) },
    { header: "match-severity", cell: (item) => text(item["match-severity"]) },
    { header: "match-field", cell: (item) => text(item["match-field"]) },
  ],
};

function registerSection(parent: Command, manager: ManagerContext, section: Section): void {
  const group = parent.command(section.command).description(section.description);
  const path = `${BASE}${section.path}`;
  section
    .withOptions(group.command("create <name>").description(`add a ${section.command}`))
    .action(async (name: string, options: Record<string, unknown>) => {
      const fields = section.fields(options, true);
      const missing = section.required.filter((field) => fields[field] === undefined);
      if (missing.length > 0) throw new Error(`--${missing.join(", --")} is required`);
      await manager.api().post(path, { name, ...fields });
    });
  withOutputFormat(group.command("list").description(`list ${section.command}s`)).action(
    async (options: { outputFormat: OutputFormat }) => {
      const { data } = await manager.api().get<Item[]>(path);
      printRows(options.outputFormat, data, [
        { header: "name", cell: (item) => item.name },
        ...section.columns,
        { header: "disabled", cell: (item) => (item.disable === true ? "yes" : "-") },
        { header: "comment", cell: (item) => text(item.comment) },
      ]);
    },
  );
  section
    .withOptions(group.command("update <name>").description(`change a ${section.command}`))
    .option("--delete <option>", "clear an option (repeatable), e.g. comment", collect)
    .action(async (name: string, options: Record<string, unknown>) => {
      await manager.api().put(`${path}/${encodeURIComponent(name)}`, {
        ...section.fields(options, false),
        delete: options.delete as string[] | undefined,
      });
    });
  group
    .command("remove <name>")
    .description(`remove a ${section.command}`)
    .action(async (name: string) => {
      await manager.api().delete(`${path}/${encodeURIComponent(name)}`);
    });
}

/** `cairn-manager notification webhook|sendmail|matcher …`, `targets` and `test`. */
export function registerNotificationCommands(program: Command, manager: ManagerContext): void {
  const notification = program
    .command("notification")
    .description("where job failures, GC errors and pool health changes are sent");
  for (const section of [WEBHOOK, SENDMAIL, MATCHER]) {
    registerSection(notification, manager, section);
  }
  withOutputFormat(
    notification.command("targets").description("list every target with its type"),
  ).action(async (options: { outputFormat: OutputFormat }) => {
    const { data } = await manager.api().get<Item[]>(`${BASE}/targets`);
    printRows(options.outputFormat, data, [
      { header: "name", cell: (item) => item.name },
      { header: "type", cell: (item) => text(item.type) },
      { header: "disabled", cell: (item) => (item.disable === true ? "yes" : "-") },
      { header: "comment", cell: (item) => text(item.comment) },
    ]);
  });
  notification
    .command("test <target>")
    .description("send a test notification to one target")
    .action(async (target: string) => {
      await manager.api().post(apiPath`/config/notifications/targets/${target}/test`);
      process.stdout.write(`sent a test notification to ${target}\n`);
    });
}
