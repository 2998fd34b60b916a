import type { Command } from "commander";
import type { ManagerContext } from "./manager-context.js";
import { wholeNumber } from "./manager-options.js";
import { printRows, showEpoch, showText, withOutputFormat } from "./manager-output.js";
import { followTask, taskPath, writeLine } from "./manager-task-follow.js";
import type { OutputFormat } from "./output.js";

/** A task as `GET /nodes/{node}/tasks` lists it. */
interface TaskItem {
  upid: string;
  starttime: number;
  endtime?: number;
  worker_type: string;
  worker_id?: string;
  user: string;
  status?: string;
}

/** `cairn-manager task list|log|stop`. */
export function registerTaskCommands(program: Command, manager: ManagerContext): void {
  const task = program.command("task").description("list, follow and stop worker tasks");

  withOutputFormat(
    task
      .command("list")
      .description("list tasks, newest first")
      .option("--limit <n>", "at most this many (0: all)", wholeNumber(0), 50)
      .option("--running", "only running tasks")
      .option("--errors", "only tasks that failed"),
  ).action(
    async (options: {
      limit: number;
      running?: boolean;
      errors?: boolean;
      outputFormat: OutputFormat;
    }) => {
      const { data } = await manager.api().get<TaskItem[]>("/nodes/localhost/tasks", {
        limit: options.limit,
        running: options.running,
        errors: options.errors,
      });
      printRows(options.outputFormat, data, [
        { header: "starttime", cell: (t) => showEpoch(t.starttime) },
        { header: "type", cell: (t) => t.worker_type },
        { header: "id", cell: (t) => showText(t.worker_id) },
        { header: "user", cell: (t) => t.user },
        { header: "status", cell: (t) => t.status ?? "running" },
        { header: "upid", cell: (t) => t.upid },
      ]);
    },
  );

  task
    .command("log <upid>")
    .description("print a task's log, following it while the task runs")
    .action(async (upid: string) => {
      await followTask(manager.api(), upid, writeLine(process.stdout));
    });

  task
    .command("stop <upid>")
    .description("ask a running task to stop")
    .action(async (upid: string) => {
      await manager.api().delete(taskPath(upid));
    });
}
