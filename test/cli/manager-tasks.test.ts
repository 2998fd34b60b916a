import { join } from "node:path";
import test from "ava";
import { addSnapshot, addStore } from "../server/helpers/snapshots.js";
import { type RunningDaemon, startDaemon, tableCells } from "./manager-daemon.js";

const DAY = 86_400;
const T1 = 1_700_000_000;
const TIMES = [T1, T1 + DAY, T1 + 2 * DAY];
const UPID = /^UPID:[^\n]+:$/m;

let daemon: RunningDaemon;
let gcUpid = "";

test.before(async () => {
  daemon = await startDaemon({
    prepare: async ({ root, configDir }) => {
      const store = await addStore(configDir, "store1", join(root, "store1"));
      for (const time of TIMES) {
        await addSnapshot(store, { type: "host", id: "web", time, owner: "root@pam" });
      }
    },
  });
});

test.after.always(async () => {
  await daemon?.stop();
  await daemon?.remove();
});

const run = (args: string[]) => {
  const result = daemon.manager(args);
  if (result.status !== 0) throw new Error(`${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
};

test.serial(
  "garbage-collection start --wait follows the log and reports the status fields",
  (t) => {
    const out = run(["garbage-collection", "start", "store1", "--wait"]);
    const lines = out.split("\n");
    t.regex(lines[0]!, /^UPID:.*:garbage_collection:store1:root@pam:$/);
    gcUpid = lines[0]!;
    t.regex(out, /starting garbage collection on store store1\n/);
    t.regex(out, /TASK OK\n/);
    const fields = Object.fromEntries(
      lines.filter((line) => /^[a-z-]+: /.test(line)).map((line) => line.split(/: +/)),
    );
    t.is(fields["upid"], gcUpid);
    t.is(fields["index-file-count"], "3");
    t.is(fields["disk-chunks"], "2");
    t.is(fields["removed-chunks"], "0");
  },
);

test.serial("garbage-collection status gives the same fields as JSON", (t) => {
  const status = JSON.parse(run(["gc", "status", "store1", "--output-format", "json"]));
  t.like(status, { upid: gcUpid, "index-file-count": 3, "disk-chunks": 2, "missing-chunks": 0 });
});

test.serial("prune --dry-run shows what would go and removes nothing; without it, they go", (t) => {
  const args = [
    "prune",
    "store1",
    "--backup-type",
    "host",
    "--backup-id",
    "web",
    "--keep-last",
    "1",
  ];
  const table = run([...args, "--dry-run"]);
  t.deepEqual(tableCells(table), [
    ["snapshot", "action"],
    ["-".repeat(29), "------"],
    ["host/web/2023-11-16T22:13:20Z", "keep"],
    ["host/web/2023-11-15T22:13:20Z", "remove"],
    ["host/web/2023-11-14T22:13:20Z", "remove"],
  ]);
  t.is(run([...args, "--dry-run"]), table);
  const items = JSON.parse(run([...args, "--output-format", "json"]));
  t.deepEqual(
    items.map((item: { "backup-time": number; keep: boolean }) => [item["backup-time"], item.keep]),
    [
      [TIMES[2], true],
      [TIMES[1], false],
      [TIMES[0], false],
    ],
  );
  t.deepEqual(tableCells(run([...args, "--dry-run"])).slice(2), [
    ["host/web/2023-11-16T22:13:20Z", "keep"],
  ]);
});

test.serial("verify --wait follows the verify task to its end", (t) => {
  const out = run(["verify", "store1", "--wait"]);
  t.regex(out.split("\n")[0]!, /^UPID:.*:verify:store1:root@pam:$/);
  t.regex(out, /TASK OK\n$/);
  const started = run(["verify", "store1", "--output-format", "json"]);
  t.regex(JSON.parse(started), UPID);
});

test.serial("task list shows the tasks newest first; task log prints one", (t) => {
  const tasks = JSON.parse(run(["task", "list", "--output-format", "json"])) as {
    upid: string;
    worker_type: string;
  }[];
  t.true(tasks.some((task) => task.upid === gcUpid));
  t.is(tasks.at(-1)?.worker_type, "garbage_collection");
  const rows = tableCells(run(["task", "list", "--limit", "1"]));
  t.is(rows.length, 3);
  t.deepEqual(rows[0], ["starttime", "type", "id", "user", "status", "upid"]);
  t.is(rows[2]![1], "verify");
  t.is(rows[2]![5], tasks[0]!.upid);
  const log = run(["task", "log", gcUpid]).trimEnd().split("\n");
  t.regex(log[0]!, /: starting garbage collection on store store1$/);
  t.regex(log.at(-1)!, /: TASK OK$/);
});

test.serial("task stop of a finished task fails with the API's message", (t) => {
  const stopped = daemon.manager(["task", "stop", gcUpid]);
  t.is(stopped.status, 1);
  t.is(stopped.stderr, `cairn-manager: task ${gcUpid} is not running\n`);
});
