import type { Command } from "commander";
import { apiPath } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { booleanValue, expiry } from "./manager-options.js";
import {
  printRecord,
  printRows,
  showBool,
  showEpoch,
  showText,
  withOutputFormat,
} from "./manager-output.js";
import type { OutputFormat } from "./output.js";

/** A token as `GET /access/users/{userid}/token` lists it (never with its secret). */
interface TokenItem {
  tokenid: string;
  "token-name": string;
  enable: boolean;
  expire: number;
  comment?: string;
}

interface NewToken {
  tokenid: string;
  value: string;
}

/** `cairn-manager user token create|list|remove`. */
export function registerTokenCommands(user: Command, manager: ManagerContext): void {
  const token = user.command("token").description("manage a user's API tokens");

  withOutputFormat(
    token
      .command("create <userid> <token-name>")
      .description("create an API token; its secret is printed this once only")
      .option("--comment <text>", "comment")
      .option("--enable [bool]", "whether the token may be used (default true)", booleanValue)
      .option("--expire <when>", "expiry: epoch seconds (0: never) or a date", expiry),
  ).action(
    async (
      userid: string,
      name: string,
      options: { comment?: string; enable?: boolean; expire?: number; outputFormat: OutputFormat },
    ) => {
      const { data } = await manager
        .api()
        .post<NewToken>(apiPath`/access/users/${userid}/token/${name}`, {
          comment: options.comment,
          enable: options.enable,
          expire: options.expire,
        });
      printRecord(options.outputFormat, data, [
        ["tokenid", data.tokenid],
        ["secret", data.value],
      ]);
      if (options.outputFormat === "text") {
        process.stderr.write("Store the secret now: it cannot be shown again.\n");
      }
    },
  );

  withOutputFormat(token.command("list <userid>").description("list a user's API tokens")).action(
    async (userid: string, options: { outputFormat: OutputFormat }) => {
      const { data } = await manager.api().get<TokenItem[]>(apiPath`/access/users/${userid}/token`);
      printRows(options.outputFormat, data, [
        { header: "tokenid", cell: (t) => t.tokenid },
        { header: "enable", cell: (t) => showBool(t.enable) },
        { header: "expire", cell: (t) => showEpoch(t.expire, "never") },
        { header: "comment", cell: (t) => showText(t.comment) },
      ]);
    },
  );

  token
    .command("remove <userid> <token-name>")
    .description("remove an API token with its ACL entries")
    .action(async (userid: string, name: string) => {
      await manager.api().delete(apiPath`/access/users/${userid}/token/${name}`);
    });
}
