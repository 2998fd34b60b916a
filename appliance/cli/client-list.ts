import type { Command } from "commander";
import { DatastoreApi, type GroupItem } from "../client/datastore-api.js";
import { type ClientEnvironment, openRepository } from "../client/repository-session.js";
import {
  commandEnvironment,
  type RepositoryOptions,
  showTime,
  withOutputFormat,
  withRepository,
  writeRows,
} from "./client-options.js";
import type { OutputFormat } from "./output.js";

export interface ListingOptions extends RepositoryOptions {
  outputFormat: OutputFormat;
}

export function registerList(program: Command): void {
  withOutputFormat(withRepository(program.command("list")))
    .description("list backup groups")
    .action(async (options: ListingOptions) => {
      await listCommand(options, commandEnvironment());
    });
}

/** Connects and returns the datastore API of the repository. */
export async function datastoreApi(
  options: RepositoryOptions,
  environment: ClientEnvironment,
): Promise<DatastoreApi> {
  const session = await openRepository(options.repository, environment);
  return new DatastoreApi(session.api, session.repository.store, options.ns);
}

export async function listCommand(
  options: ListingOptions,
  environment: ClientEnvironment,
): Promise<GroupItem[]> {
  const groups = await (await datastoreApi(options, environment)).groups();
  groups.sort((a, b) =>
    `${a["backup-type"]}/${a["backup-id"]}`.localeCompare(`${b["backup-type"]}/${b["backup-id"]}`),
  );
  writeRows(environment, options.outputFormat, groups, [
    { header: "group", cell: (group) => `${group["backup-type"]}/${group["backup-id"]}` },
    { header: "last snapshot", cell: (group) => showTime(group["last-backup"]) },
    { header: "backup-count", cell: (group) => String(group["backup-count"]), align: "right" },
    { header: "owner", cell: (group) => group.owner ?? "-" },
    { header: "files", cell: (group) => group.files.map(shortName).join(" ") },
  ]);
  return groups;
}

/** `root.pxar.didx` → `root.pxar`, as PBS lists archives. */
export function shortName(filename: string): string {
  return filename.replace(/\.(didx|fidx|blob)$/, "");
}
