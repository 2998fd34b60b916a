import type { Command } from "commander";
import type { ManagerContext } from "./manager-context.js";
import { booleanValue } from "./manager-options.js";
import { printRows, showBool, withOutputFormat } from "./manager-output.js";
import type { OutputFormat } from "./output.js";

/** An entry as `GET /access/acl` lists it. */
interface AclItem {
  path: string;
  ugid: string;
  propagate: boolean;
  roleid: string;
}

/** `cairn-manager acl update|list`. */
export function registerAclCommands(program: Command, manager: ManagerContext): void {
  const acl = program.command("acl").description("grant and list roles on ACL paths");

  acl
    .command("update <path> <role>")
    .description("grant a role on a path to a user or API token (or revoke it with --delete)")
    .requiredOption("--auth-id <id>", "user (name@realm) or API token (name@realm!token)")
    .option(
      "--propagate [bool]",
      "whether the role also applies below the path (default true)",
      booleanValue,
    )
    .option("--delete", "revoke the role instead of granting it")
    .action(
      async (
        path: string,
        role: string,
        options: { authId: string; propagate?: boolean; delete?: boolean },
      ) => {
        await manager.api().put("/access/acl", {
          path,
          role,
          "auth-id": options.authId,
          propagate: options.propagate,
          delete: options.delete,
        });
      },
    );

  withOutputFormat(
    acl
      .command("list")
      .description("list ACL entries")
      .option("--path <path>", "only entries on this path and below it")
      .option("--exact", "with --path: only entries on the path itself"),
  ).action(async (options: { path?: string; exact?: boolean; outputFormat: OutputFormat }) => {
    const { data } = await manager
      .api()
      .get<AclItem[]>("/access/acl", { path: options.path, exact: options.exact });
    printRows(options.outputFormat, data, [
      { header: "path", cell: (e) => e.path },
      { header: "ugid", cell: (e) => e.ugid },
      { header: "roleid", cell: (e) => e.roleid },
      { header: "propagate", cell: (e) => showBool(e.propagate) },
    ]);
  });
}
