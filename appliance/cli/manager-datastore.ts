import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import type { DatastoreConfig } from "../server/config/datastore-config.js";
import { formatTuning, parseTuning } from "../server/config/datastore-tuning.js";
import { type ApiParams, apiPath, type LocalApi } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { addKeepOptions, booleanValue, collect, keepParams } from "./manager-options.js";
import { printRows, showText, withOutputFormat } from "./manager-output.js";
import { waitForTask } from "./manager-task-follow.js";
import type { OutputFormat } from "./output.js";

const SYNC_LEVELS = ["none", "file", "filesystem"];

interface DatastoreOptions {
  comment?: string;
  gcSchedule?: string;
  pruneSchedule?: string;
  verifyNew?: boolean;
  syncLevel?: string;
  tuning?: string;
}

function syncLevel(value: string): string {
  if (SYNC_LEVELS.includes(value)) return value;
  throw new InvalidArgumentError(`must be one of ${SYNC_LEVELS.join(", ")}`);
}

/** The options `create` and `update` share, one per datastore.json field. */
function withDatastoreOptions(command: Command): Command {
  command
    .option("--comment <text>", "comment")
    .option("--gc-schedule <event>", "garbage collection schedule (calendar event)")
    .option("--prune-schedule <event>", "prune schedule (calendar event)");
  return addKeepOptions(command)
    .option("--verify-new [bool]", "verify each new backup when it finishes", booleanValue)
    .option("--sync-level <level>", "none, file or filesystem (tuning sync-level)", syncLevel)
    .option("--tuning <options>", "the whole tuning string, e.g. sync-level=file,chunk-order=none");
}

/** The API fields of the options; tuning with --sync-level folded into `baseTuning`. */
function datastoreFields(options: DatastoreOptions, baseTuning?: string): ApiParams {
  let tuning = options.tuning ?? baseTuning;
  if (options.syncLevel !== undefined) {
    tuning = formatTuning({
      ...parseTuning(tuning ?? ""),
      "sync-level": options.syncLevel as "none" | "file" | "filesystem",
    });
  }
  return {
    comment: options.comment,
    "gc-schedule": options.gcSchedule,
    "prune-schedule": options.pruneSchedule,
    ...keepParams(options),
    "verify-new": options.verifyNew,
    tuning,
  };
}

async function listDatastores(api: LocalApi, format: OutputFormat): Promise<void> {
  const { data } = await api.get<DatastoreConfig[]>("/config/datastore");
  printRows(format, data, [
    { header: "name", cell: (store) => store.name },
    { header: "path", cell: (store) => store.path },
    { header: "comment", cell: (store) => showText(store.comment) },
  ]);
}

async function updateDatastore(
  api: LocalApi,
  name: string,
  options: DatastoreOptions & { delete?: string[] },
): Promise<void> {
  const path = apiPath`/config/datastore/${name}`;
  // --sync-level alone changes one tuning option: the others come from the current entry
  const current =
    options.syncLevel !== undefined && options.tuning === undefined
      ? await api.get<DatastoreConfig>(path)
      : undefined;
  await api.put(path, {
    ...datastoreFields(options, current?.data.tuning),
    delete: options.delete,
    digest: current?.attributes.digest as string | undefined,
  });
}

/** `cairn-manager datastore create|list|update|remove`. */
export function registerDatastoreCommands(program: Command, manager: ManagerContext): void {
  const datastore = program
    .command("datastore")
    .description("create, list, change and remove datastores");

  withDatastoreOptions(
    datastore
      .command("create <name> <path>")
      .description("create a datastore in an empty or new directory (or adopt one there)"),
  ).action(async (name: string, path: string, options: DatastoreOptions) => {
    const api = manager.api();
    const { data: upid } = await api.post<string>("/config/datastore", {
      name,
      path: resolve(path),
      ...datastoreFields(options),
    });
    await waitForTask(api, upid);
  });

  withOutputFormat(datastore.command("list").description("list the configured datastores")).action(
    (options: { outputFormat: OutputFormat }) =>
      listDatastores(manager.api(), options.outputFormat),
  );

  withDatastoreOptions(
    datastore.command("update <name>").description("change a datastore's options"),
  )
    .option("--delete <option>", "clear an option (repeatable), e.g. comment", collect)
    .action((name: string, options: DatastoreOptions & { delete?: string[] }) =>
      updateDatastore(manager.api(), name, options),
    );

  datastore
    .command("remove <name>")
    .description("remove a datastore from the configuration; its data stays on disk")
    .action(async (name: string) => {
      const api = manager.api();
      const { data: upid } = await api.delete<string>(apiPath`/config/datastore/${name}`);
      await waitForTask(api, upid);
    });
}
