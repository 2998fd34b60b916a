import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { type RunningDaemon, startDaemon, tableCells } from "./manager-daemon.js";

let daemon: RunningDaemon;

test.before(async () => {
  daemon = await startDaemon();
});

test.after.always(async () => {
  await daemon?.stop();
  await daemon?.remove();
});

const json = (args: string[]) => {
  const result = daemon.manager([...args, "--output-format", "json"]);
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
};

test.serial("datastore create runs the create task and prints its log", (t) => {
  const path = join(daemon.root, "store1");
  const result = daemon.manager([
    "datastore",
    "create",
    "store1",
    path,
    "--comment",
    "first store",
    "--sync-level",
    "none",
    "--keep-daily",
    "7",
  ]);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, new RegExp(`creating the chunk store in ${path}\\n`));
  t.regex(result.stdout, /datastore store1 created\n.*TASK OK\n$/);
});

test.serial("datastore list prints an aligned table and the configuration as JSON", (t) => {
  const path = join(daemon.root, "store1");
  const text = daemon.manager(["datastore", "list"]);
  t.is(text.status, 0, text.stderr);
  const lines = text.stdout.trimEnd().split("\n");
  t.deepEqual(tableCells(text.stdout), [
    ["name", "path", "comment"],
    ["------", "-".repeat(path.length), "-----------"],
    ["store1", path, "first store"],
  ]);
  t.is(lines[0]!.indexOf("path"), lines[2]!.indexOf(path));
  t.is(lines[0]!.indexOf("comment"), lines[2]!.indexOf("first store"));
  t.deepEqual(json(["datastore", "list"]), [
    { name: "store1", path, comment: "first store", "keep-daily": 7, tuning: "sync-level=none" },
  ]);
});

test.serial("datastore update changes one tuning option and clears others with --delete", (t) => {
  const changed = daemon.manager([
    "datastore",
    "update",
    "store1",
    "--sync-level",
    "file",
    "--keep-last",
    "3",
    "--delete",
    "comment",
  ]);
  t.is(changed.status, 0, changed.stderr);
  t.like(json(["datastore", "list"])[0], {
    "keep-last": 3,
    "keep-daily": 7,
    tuning: "sync-level=file",
  });
  t.false("comment" in json(["datastore", "list"])[0]!);
});

test.serial("a second datastore of the same name is refused with the API's message", (t) => {
  const again = daemon.manager(["datastore", "create", "store1", join(daemon.root, "other")]);
  t.is(again.status, 1);
  t.is(again.stderr, "cairn-manager: datastore store1 already exists\n");
});

test.serial(
  "a create task that fails shows its log and exits 1 with the task's error",
  async (t) => {
    const busy = join(daemon.root, "busy");
    await mkdir(busy);
    await writeFile(join(busy, "someone-elses-file"), "");
    const failed = daemon.manager(["datastore", "create", "store2", busy]);
    t.is(failed.status, 1);
    t.regex(failed.stdout, /TASK ERROR: .*not empty.*\n$/);
    t.regex(
      failed.stderr,
      /^cairn-manager: task failed: .*not empty.* \(UPID:.*:create-datastore:store2:root@pam:\)\n$/,
    );
    t.deepEqual(
      json(["datastore", "list"]).map((store) => store.name),
      ["store1"],
    );
  },
);

test.serial("datastore remove drops the configuration and leaves the data", async (t) => {
  const removed = daemon.manager(["datastore", "remove", "store1"]);
  t.is(removed.status, 0, removed.stderr);
  t.regex(removed.stdout, /removed from the configuration; its data stays in place/);
  t.deepEqual(json(["datastore", "list"]), []);
  t.is(daemon.manager(["datastore", "list"]).stdout, "name  path  comment\n----  ----  -------\n");
  t.true((await stat(join(daemon.root, "store1", ".chunks"))).isDirectory());
});
