import type { Command } from "commander";
import { apiPath } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { booleanValue, collect, expiry } from "./manager-options.js";
import { printRows, showBool, showEpoch, showText, withOutputFormat } from "./manager-output.js";
import { readNewPassword } from "./manager-password.js";
import { registerTokenCommands } from "./manager-token.js";
import type { OutputFormat } from "./output.js";

/** A user as `GET /access/users` lists it. */
interface UserItem {
  userid: string;
  enable: boolean;
  expire: number;
  comment?: string;
  firstname?: string;
  lastname?: string;
  email?: string;
}

interface UserOptions {
  comment?: string;
  email?: string;
  firstname?: string;
  lastname?: string;
  enable?: boolean;
  expire?: number;
}

function withUserOptions(command: Command): Command {
  return command
    .option("--comment <text>", "comment")
    .option("--email <address>", "e-mail address")
    .option("--firstname <name>", "first name")
    .option("--lastname <name>", "last name")
    .option("--enable [bool]", "whether the user may log in (default true)", booleanValue)
    .option("--expire <when>", "account expiry: epoch seconds (0: never) or a date", expiry);
}

function userFields(options: UserOptions) {
  return {
    comment: options.comment,
    email: options.email,
    firstname: options.firstname,
    lastname: options.lastname,
    enable: options.enable,
    expire: options.expire,
  };
}

/** `cairn-manager user create|list|update|remove|passwd` and `user token …`. */
export function registerUserCommands(program: Command, manager: ManagerContext): void {
  const user = program.command("user").description("manage users and their API tokens");

  withUserOptions(user.command("create <userid>").description("add a user of realm pbs"))
    .option(
      "--password [password]",
      "set a password (without a value: $CAIRN_NEW_PASSWORD, a prompt or standard input)",
    )
    .action(async (userid: string, options: UserOptions & { password?: string | true }) => {
      const password =
        options.password === undefined
          ? undefined
          : await readNewPassword(options.password === true ? undefined : options.password);
      await manager.api().post("/access/users", { userid, password, ...userFields(options) });
    });

  withOutputFormat(user.command("list").description("list users")).action(
    async (options: { outputFormat: OutputFormat }) => {
      const { data } = await manager.api().get<UserItem[]>("/access/users");
      printRows(options.outputFormat, data, [
        { header: "userid", cell: (u) => u.userid },
        { header: "enable", cell: (u) => showBool(u.enable) },
        { header: "expire", cell: (u) => showEpoch(u.expire, "never") },
        {
          header: "name",
          cell: (u) => showText([u.firstname, u.lastname].filter(Boolean).join(" ")),
        },
        { header: "email", cell: (u) => showText(u.email) },
        { header: "comment", cell: (u) => showText(u.comment) },
      ]);
    },
  );

  withUserOptions(user.command("update <userid>").description("change a user"))
    .option("--delete <field>", "clear a field (repeatable): comment, email, …", collect)
    .action(async (userid: string, options: UserOptions & { delete?: string[] }) => {
      const fields = { ...userFields(options), delete: options.delete };
      await manager.api().put(apiPath`/access/users/${userid}`, fields);
    });

  user
    .command("remove <userid>")
    .description("remove a user with its API tokens and ACL entries")
    .action(async (userid: string) => {
      await manager.api().delete(apiPath`/access/users/${userid}`);
    });

  user
    .command("passwd <userid>")
    .description("set a user's password ($CAIRN_NEW_PASSWORD, a prompt or standard input)")
    .option("--password <password>", "the new password (visible to other local users in ps)")
    .action(async (userid: string, options: { password?: string }) => {
      const password = await readNewPassword(options.password);
      await manager.api().put("/access/password", { userid, password });
    });

  registerTokenCommands(user, manager);
}
