import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { silentLogger } from "../../appliance/server/logger.js";
import { TaskError } from "../../appliance/server/tasks/task-errors.js";
import { TaskManager } from "../../appliance/server/tasks/task-manager.js";
import {
  escapeWorkerId,
  formatUpid,
  parseUpid,
  unescapeWorkerId,
} from "../../appliance/server/tasks/upid.js";
import { api } from "./helpers/client.js";
import { StandInAccess, tokenHeader } from "./helpers/stand-in-access.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

const root = tokenHeader("root@pam");
const alice = tokenHeader("alice@pbs");
let server: TestServer;

test.before(async () => {
  server = await startTestServer({
    access: new StandInAccess([
      { authId: "auditor@pbs", path: "/system/tasks", privileges: ["Sys.Audit"] },
    ]),
  });
});

test.after.always(async () => {
  await server?.stop();
});

async function tempTasks(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "cairn-tasks-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { dir, tasks: new TaskManager(dir, silentLogger(), "node1") };
}

/** A task that runs until stopped, logging as it starts. */
function untilAborted(log: string) {
  return async (task: { signal: AbortSignal; log(m: string): void }) => {
    task.log(log);
    await new Promise<void>((_, reject) => {
      task.signal.addEventListener("abort", () => reject(task.signal.reason), { once: true });
    });
  };
}

// ---- UPIDs ----

test("a PBS UPID parses and formats back to the same text", (t) => {
  const text = "UPID:pbs:000004F2:0000112C:00000000:5F5B3B6B:garbage_collection:store1:root@pam:";
  const upid = parseUpid(text);
  t.deepEqual(upid, {
    node: "pbs",
    pid: 0x4f2,
    pstart: 0x112c,
    taskId: 0,
    startTime: 0x5f5b3b6b,
    workerType: "garbage_collection",
    workerId: "store1",
    authId: "root@pam",
  });
  t.is(formatUpid(upid), text);
});

test("worker ids are systemd-escaped as PBS does", (t) => {
  t.is(escapeWorkerId("store1:host/a-b"), "store1\\x3ahost-a\\x2db");
  t.is(escapeWorkerId(".hidden"), "\\x2ehidden");
  t.is(unescapeWorkerId("store1\\x3ahost-a\\x2db"), "store1:host/a-b");
  const upid = {
    node: "n",
    pid: 1,
    pstart: 2,
    taskId: 3,
    startTime: 4,
    workerType: "verify",
    workerId: "s:vm/100 x",
    authId: "u@pbs!t",
  };
  t.deepEqual(parseUpid(formatUpid(upid)), upid);
  t.notRegex(formatUpid(upid), /\s/);
});

test("malformed UPIDs are refused with a 400 error", (t) => {
  for (const bad of [
    "",
    "UPID:x",
    "UPID:-bad:000004F2:0000112C:00000000:5F5B3B6B:gc:s:root@pam:",
    "UPID:n:4F2:0000112C:00000000:5F5B3B6B:gc:s:root@pam:",
  ]) {
    const err = t.throws(() => parseUpid(bad), { instanceOf: TaskError });
    t.is(err.httpStatus, 400);
  }
});

// ---- the task manager ----

test("a task runs, logs, ends OK, and its end survives in the index", async (t) => {
  const { dir, tasks } = await tempTasks(t);
  const upid = await tasks.spawn({
    type: "demo",
    id: "store1",
    authId: "root@pam",
    run: async (task) => {
      task.log("first line");
      task.log("two\nlines");
    },
  });
  t.regex(upid, /^UPID:node1:[0-9A-F]{8}:[0-9A-F]{8}:00000000:[0-9A-F]{8}:demo:store1:root@pam:$/);
  const status = await tasks.wait(upid);
  t.is(status.status, "stopped");
  t.is(status.exitstatus, "OK");
  const log = await tasks.readLog(upid, 0, 0);
  t.deepEqual(
    log.lines.map((line) => line.t.replace(/^\S+: /, "")),
    ["first line", "two", "lines", "TASK OK"],
  );
  t.regex(log.lines[0]!.t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d: first line$/);
  const again = new TaskManager(dir, silentLogger(), "node1");
  t.is((await again.status(upid)).exitstatus, "OK");
  t.regex(
    await readFile(join(dir, "archive"), "utf8"),
    new RegExp(`^${upid.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")} [0-9A-F]{8} OK\n$`),
  );
});

test("warnings and errors become the exit status", async (t) => {
  const { tasks } = await tempTasks(t);
  const warned = await tasks.spawn({
    type: "demo",
    authId: "root@pam",
    run: async (task) => {
      task.warn("one");
      task.warn("two");
    },
  });
  const failed = await tasks.spawn({
    type: "demo",
    authId: "root@pam",
    run: async () => {
      throw new Error("disk on fire\nreally");
    },
  });
  t.is((await tasks.wait(warned)).exitstatus, "WARNINGS: 2");
  t.is((await tasks.wait(failed)).exitstatus, "disk on fire really");
  const log = await tasks.readLog(failed, 0, 0);
  t.regex(log.lines.at(-1)!.t, /TASK ERROR: disk on fire really$/);
  const errors = await tasks.list({ errors: true }, 0, 0);
  t.deepEqual(errors.items.map((item) => item.upid).sort(), [warned, failed].sort());
  const onlyWarnings = await tasks.list({ statusfilter: ["warning"] }, 0, 0);
  t.deepEqual(
    onlyWarnings.items.map((item) => item.upid),
    [warned],
  );
});

test("a task stopped through its signal ends as aborted", async (t) => {
  const { tasks } = await tempTasks(t);
  const upid = await tasks.spawn({
    type: "long",
    authId: "root@pam",
    run: untilAborted("waiting"),
  });
  t.is((await tasks.status(upid)).status, "running");
  t.deepEqual(
    (await tasks.list({ running: true }, 0, 0)).items.map((item) => item.upid),
    [upid],
  );
  tasks.abort(upid);
  const status = await tasks.wait(upid);
  t.is(status.exitstatus, "task aborted");
  t.throws(() => tasks.abort(upid), { instanceOf: TaskError, message: /not running/ });
});

test("tasks left active by a dead process are recovered as unknown", async (t) => {
  const { dir, tasks } = await tempTasks(t);
  const ghost = formatUpid({
    node: "node1",
    pid: 999_999_99,
    pstart: 1,
    taskId: 7,
    startTime: 1_700_000_000,
    workerType: "backup",
    workerId: "store1:host/a",
    authId: "root@pam",
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "active"), `${ghost}\n`);
  t.deepEqual((await tasks.list({ running: true }, 0, 0)).items, []);
  await tasks.recover();
  const status = await tasks.status(ghost);
  t.is(status.status, "stopped");
  t.is(status.exitstatus, "unknown");
  t.is(await readFile(join(dir, "active"), "utf8"), "");
});

test("listing pages newest first and filters by type and user", async (t) => {
  const { tasks } = await tempTasks(t);
  const spawned: string[] = [];
  for (const [type, authId] of [
    ["a", "x@pbs"],
    ["b", "y@pbs"],
    ["a", "y@pbs"],
  ] as const) {
    spawned.push(await tasks.spawn({ type, authId, run: async () => {} }));
  }
  for (const upid of spawned) await tasks.wait(upid);
  const all = await tasks.list({}, 0, 0);
  t.deepEqual(
    all.items.map((item) => item.upid),
    [...spawned].reverse(),
  );
  t.is(all.total, 3);
  const page = await tasks.list({}, 1, 1);
  t.deepEqual(
    page.items.map((item) => item.upid),
    [spawned[1]],
  );
  t.is(page.total, 3);
  t.deepEqual(
    (await tasks.list({ typefilter: "a" }, 0, 0)).items.map((i) => i.upid),
    [spawned[2], spawned[0]],
  );
  t.deepEqual(
    (await tasks.list({ userfilter: "x@" }, 0, 0)).items.map((i) => i.upid),
    [spawned[0]],
  );
  const item = all.items[0]!;
  t.is(item.worker_type, "a");
  t.is(item.user, "y@pbs");
  t.is(item.status, "OK");
  t.is(typeof item.endtime, "number");
});

// ---- over the API ----

test("task endpoints: status, log, stop, with PBS shapes", async (t) => {
  const upid = await server.server.tasks.spawn({
    type: "long",
    id: "demo",
    authId: "root@pam",
    run: untilAborted("started"),
  });
  const path = `/api2/json/nodes/localhost/tasks/${encodeURIComponent(upid)}`;
  const running = await api(server.port, "GET", `${path}/status`, { headers: root });
  t.is(running.status, 200);
  t.like(running.json.data, {
    upid,
    status: "running",
    type: "long",
    id: "demo",
    user: "root@pam",
    node: "testnode",
  });
  t.is(running.json.data.exitstatus, undefined);

  const log = await api(server.port, "GET", `${path}/log?start=0&limit=10`, { headers: root });
  t.is(log.json.total, 1);
  t.true(log.json.active);
  t.is(log.json.data[0].n, 1);
  t.regex(log.json.data[0].t, /: started$/);

  const stop = await api(server.port, "DELETE", path, { headers: root });
  t.is(stop.status, 200);
  await server.server.tasks.wait(upid);
  const stopped = await api(server.port, "GET", `${path}/status`, { headers: root });
  t.like(stopped.json.data, { status: "stopped", exitstatus: "task aborted" });
  const tail = await api(server.port, "GET", `${path}/log?start=1`, { headers: root });
  t.deepEqual(
    tail.json.data.map((line: { n: number }) => line.n),
    [2],
  );
  t.false(tail.json.active);

  const listed = await api(
    server.port,
    "GET",
    "/api2/json/nodes/localhost/tasks?typefilter=long&limit=5",
    { headers: root },
  );
  t.is(listed.json.data[0].upid, upid);
  t.is(listed.json.data[0].status, "task aborted");
});

test("a user sees and stops only its own tasks; Sys.Audit sees all", async (t) => {
  const mine = await server.server.tasks.spawn({
    type: "mine",
    authId: "alice@pbs",
    run: async () => {},
  });
  const theirs = await server.server.tasks.spawn({
    type: "theirs",
    authId: "bob@pbs",
    run: untilAborted("x"),
  });
  await server.server.tasks.wait(mine);
  const list = await api(server.port, "GET", "/api2/json/nodes/localhost/tasks?limit=0", {
    headers: alice,
  });
  t.deepEqual(
    list.json.data.map((item: { upid: string }) => item.upid),
    [mine],
  );
  t.is(list.json.total, 1);
  const other = `/api2/json/nodes/localhost/tasks/${encodeURIComponent(theirs)}`;
  t.is((await api(server.port, "GET", `${other}/status`, { headers: alice })).status, 403);
  t.is((await api(server.port, "DELETE", other, { headers: alice })).status, 403);
  t.is(
    (await api(server.port, "GET", `${other}/status`, { headers: tokenHeader("auditor@pbs") }))
      .status,
    200,
  );
  const audited = await api(server.port, "GET", "/api2/json/nodes/localhost/tasks?limit=0", {
    headers: tokenHeader("auditor@pbs"),
  });
  t.true(audited.json.data.some((item: { upid: string }) => item.upid === theirs));
  t.is(
    (await api(server.port, "GET", `${other}/status`, { headers: root })).json.data.status,
    "running",
  );
  server.server.tasks.abort(theirs);
  await server.server.tasks.wait(theirs);
});

test("task endpoints refuse other nodes, bad UPIDs and unknown tasks", async (t) => {
  t.is(
    (await api(server.port, "GET", "/api2/json/nodes/elsewhere/tasks", { headers: root })).status,
    404,
  );
  const bad = await api(server.port, "GET", "/api2/json/nodes/localhost/tasks/UPID%3Anope/status", {
    headers: root,
  });
  t.is(bad.status, 400);
  t.regex(bad.json.message, /upid: invalid UPID/);
  const unknown = formatUpid({
    node: "testnode",
    pid: 1,
    pstart: 1,
    taskId: 99,
    startTime: 1,
    workerType: "x",
    authId: "root@pam",
  });
  t.is(
    (
      await api(
        server.port,
        "GET",
        `/api2/json/nodes/localhost/tasks/${encodeURIComponent(unknown)}/status`,
        { headers: root },
      )
    ).status,
    404,
  );
});
