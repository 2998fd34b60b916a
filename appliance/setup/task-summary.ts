import { join } from "node:path";
import { TaskIndex } from "../server/tasks/task-index.js";
import { exitStatus, type TaskState } from "../server/tasks/task-state.js";
import { parseUpid, type Upid } from "../server/tasks/upid.js";

export interface TaskSeen {
  type: string;
  id?: string;
  /** Unix epoch seconds: the end of a finished task, the start of a running one. */
  time: number;
  /** OK, WARNINGS: n, the error; absent while running. */
  status?: string;
}

/** The tasks the console dashboard names: the newest backup and GC, and what runs now. */
export interface TaskSummary {
  lastBackup?: TaskSeen;
  lastGc?: TaskSeen;
  running: TaskSeen[];
}

function seen(upid: Upid, time: number, state?: TaskState): TaskSeen {
  return {
    type: upid.workerType,
    ...(upid.workerId === undefined ? {} : { id: upid.workerId }),
    time,
    ...(state === undefined ? {} : { status: exitStatus(state) }),
  };
}

function parsed(text: string): Upid | undefined {
  try {
    return parseUpid(text);
  } catch {
    return undefined; // a line from a newer or broken writer: not the dashboard's concern
  }
}

/** Reads the server's task index below the state directory; a missing index is no tasks. */
export async function taskSummary(stateDir: string): Promise<TaskSummary> {
  const index = new TaskIndex(join(stateDir, "tasks"));
  const summary: TaskSummary = { running: [] };
  for (const line of await index.readActive().catch(() => [])) {
    const upid = parsed(line);
    if (upid) summary.running.push(seen(upid, upid.startTime));
  }
  for (const task of await index.readArchive().catch(() => [])) {
    const upid = parsed(task.upid);
    if (!upid) continue;
    const entry = seen(upid, task.endTime, task.state);
    if (upid.workerType === "backup" && task.endTime >= (summary.lastBackup?.time ?? 0)) {
      summary.lastBackup = entry;
    }
    if (upid.workerType === "garbage_collection" && task.endTime >= (summary.lastGc?.time ?? 0)) {
      summary.lastGc = entry;
    }
  }
  return summary;
}
