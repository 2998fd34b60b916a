import type { Command } from "commander";
import type { ManagerContext } from "./manager-context.js";
import { registerJobCommands } from "./manager-job-commands.js";
import { addKeepOptions, booleanValue, keepParams, wholeNumber } from "./manager-options.js";
import { showText } from "./manager-output.js";

interface PruneJobOptions {
  schedule?: string;
  ns?: string;
  maxDepth?: number;
  disable?: boolean;
  comment?: string;
}

const KEEP = ["last", "hourly", "daily", "weekly", "monthly", "yearly"];

/** `--keep-last 3 --keep-daily 7` as `last=3 daily=7`. */
function retention(job: Record<string, unknown>): string {
  const rules = KEEP.filter((rule) => job[`keep-${rule}`] !== undefined).map(
    (rule) => `${rule}=${job[`keep-${rule}`]}`,
  );
  return rules.length === 0 ? "keep all" : rules.join(" ");
}

/** `cairn-manager prune-job create|list|update|remove|run`. */
export function registerPruneJobCommands(program: Command, manager: ManagerContext): void {
  registerJobCommands<PruneJobOptions>(program, manager, {
    kind: "prune",
    description: "prune the groups of a datastore (or namespace) on a schedule",
    withOptions: (command) =>
      addKeepOptions(
        command
          .option("--schedule <event>", "when to run (calendar event; required on create)")
          .option("--ns <namespace>", "namespace to prune (a/b); default the root")
          .option("--max-depth <n>", "namespace levels below --ns to include", wholeNumber(0)),
      )
        .option("--disable [bool]", "do not run on schedule", booleanValue)
        .option("--comment <text>", "comment"),
    fields: (options) => ({
      schedule: options.schedule,
      ns: options.ns,
      "max-depth": options.maxDepth,
      ...keepParams(options),
      disable: options.disable,
      comment: options.comment,
    }),
    columns: [
      { header: "schedule", cell: (job) => showText(job.schedule as string | undefined) },
      { header: "keep", cell: retention },
      { header: "disabled", cell: (job) => (job.disable === true ? "yes" : "-") },
    ],
  });
}
