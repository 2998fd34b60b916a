import { type Command, InvalidArgumentError } from "commander";
import { formatSnapshotTime } from "../datastore/names.js";
import { apiPath } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { addKeepOptions, keepParams } from "./manager-options.js";
import { printRows, withOutputFormat } from "./manager-output.js";
import type { OutputFormat } from "./output.js";

const BACKUP_TYPES = ["ct", "host", "vm"];

/** One snapshot of the answer of `POST /admin/datastore/{store}/prune`. */
interface PruneItem {
  "backup-type": string;
  "backup-id": string;
  "backup-time": number;
  keep: boolean;
  protected: boolean;
}

interface PruneOptions {
  backupType: string;
  backupId: string;
  ns?: string;
  dryRun?: boolean;
  outputFormat: OutputFormat;
}

function backupType(value: string): string {
  if (BACKUP_TYPES.includes(value)) return value;
  throw new InvalidArgumentError(`must be one of ${BACKUP_TYPES.join(", ")}`);
}

function action(item: PruneItem): string {
  if (!item.keep) return "remove";
  return item.protected ? "keep (protected)" : "keep";
}

/** `cairn-manager prune STORE --backup-type T --backup-id I --keep-…`. */
export function registerPruneCommand(program: Command, manager: ManagerContext): void {
  const prune = program
    .command("prune <store>")
    .description("remove the snapshots of one backup group that the keep-* options don't keep")
    .requiredOption("--backup-type <type>", "ct, host or vm", backupType)
    .requiredOption("--backup-id <id>", "backup id, e.g. the host name")
    .option("--ns <namespace>", "namespace of the group (a/b); default the root");
  withOutputFormat(
    addKeepOptions(prune).option("--dry-run", "only show what would be removed"),
  ).action(async (store: string, options: PruneOptions) => {
    const { data } = await manager
      .api()
      .post<PruneItem[]>(apiPath`/admin/datastore/${store}/prune`, {
        "backup-type": options.backupType,
        "backup-id": options.backupId,
        ns: options.ns,
        ...keepParams(options),
        "dry-run": options.dryRun ?? false,
      });
    printRows(options.outputFormat, data, [
      {
        header: "snapshot",
        cell: (item) =>
          `${item["backup-type"]}/${item["backup-id"]}/${formatSnapshotTime(item["backup-time"])}`,
      },
      { header: "action", cell: action },
    ]);
  });
}
