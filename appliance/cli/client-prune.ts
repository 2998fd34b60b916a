import { type Command, Option } from "commander";
import type { KeepOptions, PruneItem } from "../client/datastore-api.js";
import { ClientError } from "../client/errors.js";
import type { ClientEnvironment } from "../client/repository-session.js";
import { formatSnapshotRef, parseGroupRef } from "../client/snapshot-ref.js";
import { datastoreApi, type ListingOptions } from "./client-list.js";
import {
  commandEnvironment,
  withOutputFormat,
  withRepository,
  writeRows,
} from "./client-options.js";

const KEEP = ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const;

export interface PruneCommandOptions extends ListingOptions {
  dryRun?: boolean;
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
}

export function registerPrune(program: Command): void {
  const command = withOutputFormat(withRepository(program.command("prune")))
    .description("remove the snapshots of a group the keep options do not keep")
    .argument("<group>", "TYPE/ID")
    .option("--dry-run", "only show what would be removed");
  for (const period of KEEP) {
    command.addOption(
      new Option(`--keep-${period} <count>`, `snapshots to keep (${period})`).argParser(count),
    );
  }
  command.action(async (group: string, options: PruneCommandOptions) => {
    await pruneCommand(group, options, commandEnvironment());
  });
}

export async function pruneCommand(
  group: string,
  options: PruneCommandOptions,
  environment: ClientEnvironment,
): Promise<PruneItem[]> {
  const keep: KeepOptions = {};
  for (const period of KEEP) {
    const value =
      options[`keep${period[0]!.toUpperCase()}${period.slice(1)}` as keyof PruneCommandOptions];
    if (typeof value === "number") keep[`keep-${period}`] = value;
  }
  if (Object.keys(keep).length === 0) {
    throw new ClientError(
      "bad-argument",
      "prune needs at least one --keep-… option; it would remove everything",
    );
  }
  const items = await (await datastoreApi(options, environment)).prune(
    parseGroupRef(group),
    keep,
    options.dryRun ?? false,
  );
  writeRows(environment, options.outputFormat, items, [
    {
      header: "snapshot",
      cell: (item) =>
        formatSnapshotRef({
          type: item["backup-type"] as "host",
          id: item["backup-id"],
          time: item["backup-time"],
        }),
    },
    {
      header: "action",
      cell: (item) => (item.keep ? "keep" : options.dryRun ? "would remove" : "removed"),
    },
  ]);
  return items;
}

function count(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1)
    throw new ClientError("bad-argument", `keep counts are whole numbers ≥ 1, got '${text}'`);
  return value;
}
