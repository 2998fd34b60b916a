import type { Command } from "commander";
import { apiPath } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { booleanValue, wholeNumber } from "./manager-options.js";
import { withOutputFormat } from "./manager-output.js";
import { reportStartedTask } from "./manager-task-follow.js";
import { type OutputFormat, printJson } from "./output.js";

interface VerifyOptions {
  ns?: string;
  backupType?: string;
  backupId?: string;
  ignoreVerified?: boolean;
  outdatedAfter?: number;
  maxDepth?: number;
  wait?: boolean;
  outputFormat: OutputFormat;
}

/** `cairn-manager verify STORE`: a verify task over a namespace or one group. */
export function registerVerifyCommand(program: Command, manager: ManagerContext): void {
  withOutputFormat(
    program
      .command("verify <store>")
      .description("check the snapshots' chunks and checksums; prints the task id (UPID)")
      .option("--ns <namespace>", "namespace to verify (a/b); default the root")
      .option("--max-depth <n>", "namespace levels below --ns to include", wholeNumber(0))
      .option("--backup-type <type>", "with --backup-id: only this group")
      .option("--backup-id <id>", "with --backup-type: only this group")
      .option(
        "--ignore-verified [bool]",
        "skip snapshots verified before (default true)",
        booleanValue,
      )
      .option("--outdated-after <days>", "verify again after this many days", wholeNumber(1))
      .option("--wait", "follow the task log to the end"),
  ).action(async (store: string, options: VerifyOptions) => {
    const api = manager.api();
    const { data: upid } = await api.post<string>(apiPath`/admin/datastore/${store}/verify`, {
      ns: options.ns,
      "max-depth": options.maxDepth,
      "backup-type": options.backupType,
      "backup-id": options.backupId,
      "ignore-verified": options.ignoreVerified,
      "outdated-after": options.outdatedAfter,
    });
    const status = await reportStartedTask(api, upid, options);
    if (status && options.outputFormat !== "text") printJson(status, options.outputFormat);
  });
}
