import type { Command } from "commander";
import { apiPath, type LocalApi } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { printRecord, showBytes, withOutputFormat } from "./manager-output.js";
import { reportStartedTask } from "./manager-task-follow.js";
import type { OutputFormat } from "./output.js";

/** `GET /admin/datastore/{store}/gc`: counters of the last garbage collection. */
type GcStatus = Record<string, number | string | null>;

function showField(name: string, value: number | string | null): string {
  if (value === null) return "-";
  if (typeof value === "number" && name.endsWith("-bytes")) return `${value} (${showBytes(value)})`;
  if (typeof value === "number" && name === "deduplication-factor") return value.toFixed(2);
  return String(value);
}

async function printGcStatus(api: LocalApi, store: string, format: OutputFormat): Promise<void> {
  const { data } = await api.get<GcStatus>(apiPath`/admin/datastore/${store}/gc`);
  printRecord(
    format,
    data,
    Object.entries(data).map(([name, value]) => [name, showField(name, value)] as const),
  );
}

/** `cairn-manager garbage-collection start|status` (alias `gc`). */
export function registerGcCommands(program: Command, manager: ManagerContext): void {
  const gc = program
    .command("garbage-collection")
    .alias("gc")
    .description("remove chunks no backup refers to any more");

  withOutputFormat(
    gc
      .command("start <store>")
      .description("start a garbage collection and print its task id (UPID)")
      .option("--wait", "follow the task log to the end, then show the status fields"),
  ).action(async (store: string, options: { wait?: boolean; outputFormat: OutputFormat }) => {
    const api = manager.api();
    const { data: upid } = await api.post<string>(apiPath`/admin/datastore/${store}/gc`);
    if (await reportStartedTask(api, upid, options)) {
      await printGcStatus(api, store, options.outputFormat);
    }
  });

  withOutputFormat(
    gc.command("status <store>").description("show the result of the last garbage collection"),
  ).action((store: string, options: { outputFormat: OutputFormat }) =>
    printGcStatus(manager.api(), store, options.outputFormat),
  );
}
