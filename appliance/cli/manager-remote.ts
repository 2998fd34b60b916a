import type { Command } from "commander";
import { apiPath } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { collect, wholeNumber } from "./manager-options.js";
import { printRows, showText, withOutputFormat } from "./manager-output.js";
import type { OutputFormat } from "./output.js";

interface RemoteOptions {
  host?: string;
  port?: number;
  authId?: string;
  password?: string;
  fingerprint?: string;
  comment?: string;
}

interface RemoteItem {
  name: string;
  host: string;
  port?: number;
  "auth-id": string;
  fingerprint?: string;
  comment?: string;
}

function withRemoteOptions(command: Command): Command {
  return command
    .option("--host <host>", "DNS name or IP address of the remote server")
    .option("--port <port>", "port (default 8007)", wholeNumber(1))
    .option("--auth-id <id>", "user (user@realm) or API token (user@realm!token) to log in as")
    .option(
      "--password <secret>",
      "password or token secret (default: the CAIRN_REMOTE_PASSWORD environment variable)",
    )
    .option("--fingerprint <sha256>", "certificate fingerprint, when its chain is not trusted")
    .option("--comment <text>", "comment");
}

function remoteFields(options: RemoteOptions) {
  return {
    host: options.host,
    port: options.port,
    "auth-id": options.authId,
    password: options.password ?? process.env.CAIRN_REMOTE_PASSWORD,
    fingerprint: options.fingerprint,
    comment: options.comment,
  };
}

/** `cairn-manager remote create|list|update|remove|scan`. */
export function registerRemoteCommands(program: Command, manager: ManagerContext): void {
  const remote = program
    .command("remote")
    .description("servers that sync jobs pull from (their secrets are stored sealed)");

  withRemoteOptions(remote.command("create <name>").description("add a remote")).action(
    async (name: string, options: RemoteOptions) => {
      await manager.api().post("/config/remote", { name, ...remoteFields(options) });
    },
  );

  withOutputFormat(remote.command("list").description("list the remotes")).action(
    async (options: { outputFormat: OutputFormat }) => {
      const { data } = await manager.api().get<RemoteItem[]>("/config/remote");
      printRows(options.outputFormat, data, [
        { header: "name", cell: (item) => item.name },
        { header: "host", cell: (item) => item.host },
        { header: "port", cell: (item) => showText(item.port ?? 8007) },
        { header: "auth-id", cell: (item) => item["auth-id"] },
        { header: "fingerprint", cell: (item) => showText(item.fingerprint) },
        { header: "comment", cell: (item) => showText(item.comment) },
      ]);
    },
  );

  withRemoteOptions(remote.command("update <name>").description("change a remote"))
    .option("--delete <option>", "clear port, fingerprint or comment (repeatable)", collect)
    .action(async (name: string, options: RemoteOptions & { delete?: string[] }) => {
      await manager.api().put(apiPath`/config/remote/${name}`, {
        ...remoteFields(options),
        password: options.password, // never from the environment on update
        delete: options.delete,
      });
    });

  remote
    .command("remove <name>")
    .description("remove a remote")
    .action(async (name: string) => {
      await manager.api().delete(apiPath`/config/remote/${name}`);
    });

  withOutputFormat(
    remote
      .command("scan <name> [store]")
      .description("list the remote's datastores, or the backup groups of one of them")
      .option("--ns <namespace>", "with a store: the groups of this namespace"),
  ).action(
    async (
      name: string,
      store: string | undefined,
      options: { ns?: string; outputFormat: OutputFormat },
    ) => {
      const api = manager.api();
      if (store === undefined) {
        const { data } = await api.get<{ store: string; comment?: string }[]>(
          apiPath`/config/remote/${name}/scan`,
        );
        printRows(options.outputFormat, data, [
          { header: "store", cell: (item) => item.store },
          { header: "comment", cell: (item) => showText(item.comment) },
        ]);
        return;
      }
      const { data } = await api.get<Record<string, unknown>[]>(
        apiPath`/config/remote/${name}/scan/${store}/groups`,
        { namespace: options.ns },
      );
      printRows(options.outputFormat, data, [
        { header: "group", cell: (item) => `${item["backup-type"]}/${item["backup-id"]}` },
        { header: "snapshots", cell: (item) => showText(item["backup-count"] as number) },
        { header: "owner", cell: (item) => showText(item.owner as string) },
      ]);
    },
  );
}
