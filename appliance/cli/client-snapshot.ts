import type { Command } from "commander";
import { ClientError } from "../client/errors.js";
import type { ClientEnvironment } from "../client/repository-session.js";
import { formatSnapshotRef, parseGroupRef, parseSnapshotRef } from "../client/snapshot-ref.js";
import { formatBytes } from "../client/units.js";
import { datastoreApi, type ListingOptions, shortName } from "./client-list.js";
import {
  commandEnvironment,
  type RepositoryOptions,
  withOutputFormat,
  withRepository,
  writeRecord,
  writeRows,
} from "./client-options.js";

export function registerSnapshot(program: Command): void {
  const snapshot = program.command("snapshot").description("list, inspect and forget snapshots");
  withOutputFormat(withRepository(snapshot.command("list")))
    .description("list snapshots, of one group if given")
    .argument("[group]", "TYPE/ID")
    .action((group: string | undefined, options: ListingOptions) =>
      snapshotListCommand(group, options, commandEnvironment()),
    );
  withOutputFormat(withRepository(snapshot.command("files")))
    .description("list the files of a snapshot")
    .argument("<snapshot>", "TYPE/ID/TIME")
    .action((ref: string, options: ListingOptions) =>
      snapshotFilesCommand(ref, options, commandEnvironment()),
    );
  withRepository(snapshot.command("forget"))
    .description("remove a snapshot")
    .argument("<snapshot>", "TYPE/ID/TIME")
    .action((ref: string, options: RepositoryOptions) =>
      snapshotForgetCommand(ref, options, commandEnvironment()),
    );
  const notes = snapshot.command("notes").description("show or change a snapshot's notes");
  withOutputFormat(withRepository(notes.command("show")))
    .argument("<snapshot>", "TYPE/ID/TIME")
    .action((ref: string, options: ListingOptions) =>
      notesShowCommand(ref, options, commandEnvironment()),
    );
  withRepository(notes.command("update"))
    .argument("<snapshot>", "TYPE/ID/TIME")
    .argument("<notes>", "the new notes")
    .action((ref: string, text: string, options: RepositoryOptions) =>
      notesUpdateCommand(ref, text, options, commandEnvironment()),
    );
  const protection = snapshot
    .command("protected")
    .description("show or change a snapshot's protection");
  withOutputFormat(withRepository(protection.command("show")))
    .argument("<snapshot>", "TYPE/ID/TIME")
    .action((ref: string, options: ListingOptions) =>
      protectedShowCommand(ref, options, commandEnvironment()),
    );
  withRepository(protection.command("update"))
    .argument("<snapshot>", "TYPE/ID/TIME")
    .argument("<protected>", "true or false")
    .action((ref: string, value: string, options: RepositoryOptions) =>
      protectedUpdateCommand(ref, value, options, commandEnvironment()),
    );
}

export async function snapshotListCommand(
  group: string | undefined,
  options: ListingOptions,
  environment: ClientEnvironment,
): Promise<void> {
  const api = await datastoreApi(options, environment);
  const snapshots = await api.snapshots(group === undefined ? undefined : parseGroupRef(group));
  snapshots.sort(
    (a, b) =>
      `${a["backup-type"]}/${a["backup-id"]}`.localeCompare(
        `${b["backup-type"]}/${b["backup-id"]}`,
      ) || a["backup-time"] - b["backup-time"],
  );
  writeRows(environment, options.outputFormat, snapshots, [
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
      header: "size",
      cell: (item) => (item.size === undefined ? "-" : formatBytes(item.size)),
      align: "right",
    },
    { header: "protected", cell: (item) => (item.protected ? "yes" : "no") },
    {
      header: "files",
      cell: (item) => item.files.map((file) => shortName(file.filename)).join(" "),
    },
  ]);
}

export async function snapshotFilesCommand(
  ref: string,
  options: ListingOptions,
  environment: ClientEnvironment,
): Promise<void> {
  const files = await (await datastoreApi(options, environment)).files(parseSnapshotRef(ref));
  writeRows(environment, options.outputFormat, files, [
    { header: "filename", cell: (file) => file.filename },
    { header: "crypt-mode", cell: (file) => file["crypt-mode"] ?? "-" },
    {
      header: "size",
      cell: (file) => (file.size === undefined ? "-" : String(file.size)),
      align: "right",
    },
  ]);
}

export async function snapshotForgetCommand(
  ref: string,
  options: RepositoryOptions,
  environment: ClientEnvironment,
): Promise<void> {
  await (await datastoreApi(options, environment)).forget(parseSnapshotRef(ref));
}

export async function notesShowCommand(
  ref: string,
  options: ListingOptions,
  environment: ClientEnvironment,
): Promise<void> {
  const notes = await (await datastoreApi(options, environment)).notes(parseSnapshotRef(ref));
  environment.stdout.write(
    options.outputFormat === "text" ? `${notes}\n` : `${JSON.stringify(notes)}\n`,
  );
}

export async function notesUpdateCommand(
  ref: string,
  notes: string,
  options: RepositoryOptions,
  environment: ClientEnvironment,
): Promise<void> {
  await (await datastoreApi(options, environment)).setNotes(parseSnapshotRef(ref), notes);
}

export async function protectedShowCommand(
  ref: string,
  options: ListingOptions,
  environment: ClientEnvironment,
): Promise<void> {
  const value = await (await datastoreApi(options, environment)).isProtected(parseSnapshotRef(ref));
  writeRecord(environment, options.outputFormat, value, [["protected", value ? "yes" : "no"]]);
}

export async function protectedUpdateCommand(
  ref: string,
  value: string,
  options: RepositoryOptions,
  environment: ClientEnvironment,
): Promise<void> {
  if (value !== "true" && value !== "false") {
    throw new ClientError("bad-argument", `protected must be true or false, got '${value}'`);
  }
  await (await datastoreApi(options, environment)).setProtected(
    parseSnapshotRef(ref),
    value === "true",
  );
}
