import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { formatUpid } from "../../appliance/server/tasks/upid.js";
import { taskSummary } from "../../appliance/setup/task-summary.js";
import { scratchDir } from "../system/helpers.js";

const upid = (workerType: string, workerId: string, startTime: number) =>
  formatUpid({
    node: "backup",
    pid: 42,
    pstart: 1,
    taskId: 0,
    startTime,
    workerType,
    workerId,
    authId: "root@pam",
  });
const hex8 = (value: number) => value.toString(16).toUpperCase().padStart(8, "0");

test("the newest backup and GC and the running tasks come from the task index", async (t) => {
  const stateDir = scratchDir(t, "cairn-tasks-");
  mkdirSync(join(stateDir, "tasks"));
  writeFileSync(
    join(stateDir, "tasks", "archive"),
    [
      `${upid("backup", "store1:host/a", 100)} ${hex8(200)} OK`,
      `${upid("backup", "store1:host/b", 300)} ${hex8(400)} connection reset`,
      `${upid("garbage_collection", "store1", 500)} ${hex8(600)} WARNINGS: 2`,
      `${upid("backup", "store1:host/c", 50)} ${hex8(150)} OK`,
      "a torn line",
    ].join("\n"),
  );
  writeFileSync(
    join(stateDir, "tasks", "active"),
    `${upid("verify", "store1", 700)}\nnot a upid\n`,
  );
  t.deepEqual(await taskSummary(stateDir), {
    lastBackup: { type: "backup", id: "store1:host/b", time: 400, status: "connection reset" },
    lastGc: { type: "garbage_collection", id: "store1", time: 600, status: "WARNINGS: 2" },
    running: [{ type: "verify", id: "store1", time: 700 }],
  });
});

test("no task index yet is no tasks", async (t) => {
  t.deepEqual(await taskSummary(scratchDir(t, "cairn-tasks-")), { running: [] });
});
