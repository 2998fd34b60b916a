import { TaskError } from "./task-errors.js";
import type { SpawnOptions, TaskContext, TaskManager } from "./task-manager.js";

export interface TaskToEndOptions<T> extends Omit<SpawnOptions, "run"> {
  run(task: TaskContext): Promise<T>;
}

type Outcome<T> = { kind: "done"; value: T } | { kind: "failed"; error: unknown };

/**
 * Runs a short change as a task and waits for its end, so it is logged like any task while the
 * route still answers with the change's own result, or fails with the change's own error (and
 * its HTTP status) rather than a task error.
 */
export async function runTaskToEnd<T>(
  tasks: TaskManager,
  options: TaskToEndOptions<T>,
): Promise<T> {
  let outcome: Outcome<T> | undefined;
  const upid = await tasks.spawn({
    ...options,
    run: async (task) => {
      try {
        outcome = { kind: "done", value: await options.run(task) };
      } catch (error) {
        outcome = { kind: "failed", error };
        throw error;
      }
    },
  });
  await tasks.wait(upid);
  // the task manager always calls run; this guards against a future change to that
  if (outcome === undefined) throw new TaskError("aborted", `task ${upid} ended before it ran`);
  if (outcome.kind === "failed") throw outcome.error;
  return outcome.value;
}
