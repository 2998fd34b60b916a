import type { Command } from "commander";
import type { ClientEnvironment } from "../client/repository-session.js";
import { formatBytes } from "../client/units.js";
import { datastoreApi, type ListingOptions } from "./client-list.js";
import {
  commandEnvironment,
  withOutputFormat,
  withRepository,
  writeRecord,
} from "./client-options.js";

export function registerStatus(program: Command): void {
  withOutputFormat(withRepository(program.command("status")))
    .description("show the datastore's space")
    .action((options: ListingOptions) => statusCommand(options, commandEnvironment()));
}

export async function statusCommand(
  options: ListingOptions,
  environment: ClientEnvironment,
): Promise<void> {
  const status = await (await datastoreApi(options, environment)).status();
  const share = status.total > 0 ? ` (${((status.used / status.total) * 100).toFixed(2)}%)` : "";
  writeRecord(environment, options.outputFormat, status, [
    ["total", formatBytes(status.total)],
    ["used", `${formatBytes(status.used)}${share}`],
    ["avail", formatBytes(status.avail)],
  ]);
}
