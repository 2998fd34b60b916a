import type { Command } from "commander";
import { apiPath } from "./local-api.js";
import type { ManagerContext } from "./manager-context.js";
import { collect } from "./manager-options.js";
import { printRows, showEpoch, showText, withOutputFormat } from "./manager-output.js";
import { reportStartedTask } from "./manager-task-follow.js";
import { type OutputFormat, printJson } from "./output.js";
import type { Column } from "./table.js";

/** One job as `GET /admin/<kind>` lists it: its configuration, last run and next run. */
export type JobItem = Record<string, unknown> & { id: string; store: string };

/** What differs between `prune-job` and `verify-job`. */
export interface JobCommandSpec<O> {
  /** `prune` or `verify`: the API paths `/config/<kind>` and `/admin/<kind>`. */
  kind: string;
  description: string;
  /** Adds the options of create and update (without --store). */
  withOptions(command: Command): Command;
  /** The API fields of the parsed options. */
  fields(options: O): Record<string, string | number | boolean | undefined>;
  /** Columns shown between store and the run state. */
  columns: Column<JobItem>[];
}

/** `cairn-manager <kind>-job create|list|update|remove|run` over the admin socket. */
export function registerJobCommands<O extends object>(
  program: Command,
  manager: ManagerContext,
  spec: JobCommandSpec<O>,
): void {
  const group = program.command(`${spec.kind}-job`).description(spec.description);

  spec
    .withOptions(
      group
        .command("create <id>")
        .description(`add a ${spec.kind} job`)
        .requiredOption("--store <name>", "datastore the job works on"),
    )
    .action(async (id: string, options: O & { store: string }) => {
      await manager.api().post(`/config/${spec.kind}`, {
        id,
        store: options.store,
        ...spec.fields(options),
      });
    });

  withOutputFormat(
    group
      .command("list")
      .description(`list ${spec.kind} jobs with their last and next run`)
      .option("--store <name>", "only the jobs of this datastore"),
  ).action(async (options: { store?: string; outputFormat: OutputFormat }) => {
    const { data } = await manager
      .api()
      .get<JobItem[]>(`/admin/${spec.kind}`, { store: options.store });
    printRows(options.outputFormat, data, [
      { header: "id", cell: (job) => job.id },
      { header: "store", cell: (job) => job.store },
      ...spec.columns,
      { header: "last-run", cell: (job) => showText(job["last-run-state"] as string | undefined) },
      { header: "next-run", cell: (job) => showEpoch(job["next-run"] as number | undefined) },
    ]);
  });

  spec
    .withOptions(
      group
        .command("update <id>")
        .description(`change a ${spec.kind} job`)
        .option("--store <name>", "move the job to another datastore"),
    )
    .option("--delete <option>", "clear an option (repeatable), e.g. comment", collect)
    .action(async (id: string, options: O & { store?: string; delete?: string[] }) => {
      await manager.api().put(apiPath`/config/${spec.kind}/${id}`, {
        store: options.store,
        ...spec.fields(options),
        delete: options.delete,
      });
    });

  group
    .command("remove <id>")
    .description(`remove a ${spec.kind} job and its run history`)
    .action(async (id: string) => {
      await manager.api().delete(apiPath`/config/${spec.kind}/${id}`);
    });

  withOutputFormat(
    group
      .command("run <id>")
      .description(`run a ${spec.kind} job now; prints the task id (UPID)`)
      .option("--wait", "follow the task log to the end"),
  ).action(async (id: string, options: { wait?: boolean; outputFormat: OutputFormat }) => {
    const api = manager.api();
    const { data: upid } = await api.post<string>(apiPath`/admin/${spec.kind}/${id}/run`);
    const status = await reportStartedTask(api, upid, options);
    if (status && options.outputFormat !== "text") printJson(status, options.outputFormat);
  });
}
