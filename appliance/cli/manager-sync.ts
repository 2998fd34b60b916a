import type { Command } from "commander";
import { apiPath } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { booleanValue, collect, wholeNumber } from "./manager-options.js";
import { printRows, showEpoch, showText, withOutputFormat } from "./manager-output.js";
import { reportStartedTask } from "./manager-task-follow.js";
import { type OutputFormat, printJson } from "./output.js";

interface SyncJobOptions {
  store?: string;
  ns?: string;
  remote?: string;
  remoteStore?: string;
  remoteNs?: string;
  owner?: string;
  removeVanished?: boolean;
  maxDepth?: number;
  groupFilter?: string[];
  transferLast?: number;
  syncDirection?: string;
  rateIn?: string;
  burstIn?: string;
  rateOut?: string;
  burstOut?: string;
  schedule?: string;
  comment?: string;
}

function withSyncJobOptions(command: Command): Command {
  return command
    .option("--sync-direction <pull|push>", "pull (default) from the remote, or push to it")
    .option("--store <name>", "local datastore to sync into")
    .option("--ns <namespace>", "local namespace to sync into (default the root)")
    .option("--remote <name>", "remote to pull from; without it another local datastore")
    .option("--remote-store <name>", "datastore to pull from")
    .option("--remote-ns <namespace>", "namespace to pull from (default the root)")
    .option("--owner <auth-id>", "owner of the synced groups (default root@pam)")
    .option("--remove-vanished [bool]", "remove what the source no longer has", booleanValue)
    .option("--max-depth <n>", "namespace levels to descend", wholeNumber(0))
    .option(
      "--group-filter <filter>",
      "[include:|exclude:]type:<type>, group:<type>/<id> or regex:<re> (repeatable)",
      collect,
    )
    .option("--transfer-last <n>", "sync only the newest <n> snapshots per group", wholeNumber(1))
    .option("--rate-in <size>", "inbound rate limit per second, e.g. 10MiB")
    .option("--burst-in <size>", "inbound burst, e.g. 20MiB")
    .option("--rate-out <size>", "outbound rate limit of a push per second, e.g. 10MiB")
    .option("--burst-out <size>", "outbound burst of a push, e.g. 20MiB")
    .option("--schedule <event>", "when to run (calendar event)")
    .option("--comment <text>", "comment");
}

function syncJobFields(options: SyncJobOptions) {
  return {
    "sync-direction": options.syncDirection,
    store: options.store,
    ns: options.ns,
    remote: options.remote,
    "remote-store": options.remoteStore,
    "remote-ns": options.remoteNs,
    owner: options.owner,
    "remove-vanished": options.removeVanished,
    "max-depth": options.maxDepth,
    "group-filter": options.groupFilter,
    "transfer-last": options.transferLast,
    "rate-in": options.rateIn,
    "burst-in": options.burstIn,
    "rate-out": options.rateOut,
    "burst-out": options.burstOut,
    schedule: options.schedule,
    comment: options.comment,
  };
}

type SyncJobItem = Record<string, unknown> & { id: string; store: string };

/** `cairn-manager sync-job create|list|update|remove|run`. */
export function registerSyncJobCommands(program: Command, manager: ManagerContext): void {
  const sync = program
    .command("sync-job")
    .description("pull snapshots from a remote (or another datastore) into a datastore");

  withSyncJobOptions(sync.command("create <id>").description("add a sync job")).action(
    async (id: string, options: SyncJobOptions) => {
      await manager.api().post("/config/sync", { id, ...syncJobFields(options) });
    },
  );

  withOutputFormat(sync.command("list").description("list sync jobs with their last run")).action(
    async (options: { outputFormat: OutputFormat }) => {
      const { data } = await manager.api().get<SyncJobItem[]>("/admin/sync");
      const text = (value: unknown) => showText(value as string | undefined);
      printRows(options.outputFormat, data, [
        { header: "id", cell: (job) => job.id },
        { header: "store", cell: (job) => job.store },
        { header: "remote", cell: (job) => showText((job.remote as string) ?? "(local)") },
        { header: "remote-store", cell: (job) => text(job["remote-store"]) },
        { header: "schedule", cell: (job) => text(job.schedule) },
        { header: "last-run", cell: (job) => text(job["last-run-state"]) },
        { header: "next-run", cell: (job) => showEpoch(job["next-run"] as number | undefined) },
      ]);
    },
  );

  withSyncJobOptions(sync.command("update <id>").description("change a sync job"))
    .option("--delete <option>", "clear an option (repeatable), e.g. schedule", collect)
    .action(async (id: string, options: SyncJobOptions & { delete?: string[] }) => {
      await manager.api().put(apiPath`/config/sync/${id}`, {
        ...syncJobFields(options),
        delete: options.delete,
      });
    });

  sync
    .command("remove <id>")
    .description("remove a sync job")
    .action(async (id: string) => {
      await manager.api().delete(apiPath`/config/sync/${id}`);
    });

  withOutputFormat(
    sync
      .command("run <id>")
      .description("run a sync job now; prints the task id (UPID)")
      .option("--wait", "follow the task log to the end"),
  ).action(async (id: string, options: { wait?: boolean; outputFormat: OutputFormat }) => {
    const api = manager.api();
    const { data: upid } = await api.post<string>(apiPath`/admin/sync/${id}/run`);
    const status = await reportStartedTask(api, upid, options);
    if (status && options.outputFormat !== "text") printJson(status, options.outputFormat);
  });
}
