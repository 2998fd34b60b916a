import type { Command } from "commander";
import type { ManagerContext } from "./manager-context.js";
import { registerJobCommands } from "./manager-job-commands.js";
import { booleanValue, wholeNumber } from "./manager-options.js";
import { showBool, showText } from "./manager-output.js";

interface VerifyJobOptions {
  schedule?: string;
  ns?: string;
  maxDepth?: number;
  ignoreVerified?: boolean;
  outdatedAfter?: number;
  comment?: string;
}

/** `cairn-manager verify-job create|list|update|remove|run`. */
export function registerVerifyJobCommands(program: Command, manager: ManagerContext): void {
  registerJobCommands<VerifyJobOptions>(program, manager, {
    kind: "verify",
    description: "verify the snapshots of a datastore (or namespace) on a schedule",
    withOptions: (command) =>
      command
        .option("--schedule <event>", "when to run (calendar event); without it only on demand")
        .option("--ns <namespace>", "namespace to verify (a/b); default the root")
        .option("--max-depth <n>", "namespace levels below --ns to include", wholeNumber(0))
        .option(
          "--ignore-verified [bool]",
          "skip snapshots verified before (default true)",
          booleanValue,
        )
        .option("--outdated-after <days>", "verify again after this many days", wholeNumber(1))
        .option("--comment <text>", "comment"),
    fields: (options) => ({
      schedule: options.schedule,
      ns: options.ns,
      "max-depth": options.maxDepth,
      "ignore-verified": options.ignoreVerified,
      "outdated-after": options.outdatedAfter,
      comment: options.comment,
    }),
    columns: [
      { header: "schedule", cell: (job) => showText(job.schedule as string | undefined) },
      {
        header: "ignore-verified",
        cell: (job) => showBool((job["ignore-verified"] as boolean | undefined) ?? true),
      },
      {
        header: "outdated-after",
        cell: (job) => showText(job["outdated-after"] as number | undefined),
      },
    ],
  });
}
