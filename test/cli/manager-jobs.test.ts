import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import type { Datastore } from "../../appliance/datastore/datastore.js";
import { formatSnapshotTime } from "../../appliance/datastore/names.js";
import { encodeChunk } from "../../appliance/format/chunk.js";
import { REPO_ROOT } from "../helpers/cli.js";
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from "../jobs/notifications/webhook-receiver.js";
import { ARCHIVE_DATA, addSnapshot, addStore } from "../server/helpers/snapshots.js";
import { type RunningDaemon, startDaemon, tableCells } from "./manager-daemon.js";

const DAY = 86_400;
const T1 = 1_700_000_000;
const TIMES = [T1, T1 + DAY, T1 + 2 * DAY];

let daemon: RunningDaemon;
let store: Datastore;
let receiver: WebhookReceiver;

test.before(async () => {
  receiver = await startWebhookReceiver();
  daemon = await startDaemon({
    prepare: async ({ root, configDir }) => {
      store = await addStore(configDir, "store1", join(root, "store1"));
      for (const time of TIMES) {
        await addSnapshot(store, { type: "host", id: "web", time, owner: "root@pam" });
      }
    },
  });
});

test.after.always(async () => {
  await daemon?.stop();
  await daemon?.remove();
  await receiver?.close();
});

const run = (args: string[]) => {
  const result = daemon.manager(args);
  if (result.status !== 0) throw new Error(`${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
};

/** cairn-manager without blocking this process, whose webhook receiver must answer meanwhile. */
function runAsync(args: string[]): Promise<string> {
  const cli = join(REPO_ROOT, "appliance", "cli", "cairn-manager.ts");
  const dirs = ["--config-dir", daemon.configDir, "--state-dir", daemon.stateDir];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", cli, ...dirs, ...args], (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout),
    );
  });
}

test.serial("prune-job create, list, update, run and remove", (t) => {
  run(["prune-job", "create", "daily", "--store", "store1", "--schedule", "02:00"]);
  run(["prune-job", "update", "daily", "--keep-last", "2", "--comment", "two left"]);
  const table = tableCells(run(["prune-job", "list"]));
  t.deepEqual(table[0], ["id", "store", "schedule", "keep", "disabled", "last-run", "next-run"]);
  t.deepEqual(table[2]!.slice(0, 6), ["daily", "store1", "02:00", "last=2", "-", "-"]);
  t.regex(table[2]![6]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  const out = run(["prune-job", "run", "daily", "--wait"]);
  t.regex(out.split("\n")[0]!, /^UPID:.*:prunejob:store1\\x3adaily:root@pam:$/);
  t.regex(out, /retention options: --keep-last 2\n/);
  t.regex(out, /TASK OK\n$/);
  const left = run(["prune-job", "list", "--output-format", "json"]);
  t.like(JSON.parse(left)[0], {
    id: "daily",
    store: "store1",
    "keep-last": 2,
    comment: "two left",
    "last-run-state": "OK",
  });
  t.is(run(["prune-job", "list", "--store", "other", "--output-format", "json"]).trim(), "[]");

  const bad = daemon.manager([
    "prune-job",
    "create",
    "x1y",
    "--store",
    "store1",
    "--schedule",
    "dayly",
  ]);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /schedule: .*invalid calendar event "dayly"/);
  const missing = daemon.manager(["prune-job", "create", "x1y", "--schedule", "daily"]);
  t.not(missing.status, 0);
  t.regex(missing.stderr, /--store <name>/);

  run(["prune-job", "remove", "daily"]);
  t.is(run(["prune-job", "list", "--output-format", "json"]).trim(), "[]");
  const gone = daemon.manager(["prune-job", "run", "daily"]);
  t.is(gone.status, 1);
  t.regex(gone.stderr, /prune job "daily" does not exist/);
});

test.serial(
  "verify-job create, list, update and run; a corrupt chunk fails it and the webhook hears of it",
  async (t) => {
    run(["notification", "webhook", "create", "ops", "--url", receiver.url, "--secret", "k3y"]);
    run([
      "notification",
      "matcher",
      "create",
      "problems",
      "--target",
      "ops",
      "--match-field",
      "exact:type=verify",
    ]);
    t.deepEqual(tableCells(run(["notification", "targets"])), [
      ["name", "type", "disabled", "comment"],
      ["----", "-------", "--------", "-------"],
      ["ops", "webhook", "-", "-"],
    ]);
    const hooks = JSON.parse(run(["notification", "webhook", "list", "--output-format", "json"]));
    t.deepEqual(hooks, [{ name: "ops", url: receiver.url }]);
    t.regex(await runAsync(["notification", "test", "ops"]), /sent a test notification to ops/);
    t.is(JSON.parse((await receiver.nth(1)).body).fields.type, "system");

    run(["verify-job", "create", "check", "--store", "store1", "--outdated-after", "30"]);
    run([
      "verify-job",
      "update",
      "check",
      "--ignore-verified",
      "false",
      "--delete",
      "outdated-after",
    ]);
    t.like(JSON.parse(run(["verify-job", "list", "--output-format", "json"]))[0], {
      id: "check",
      store: "store1",
      "ignore-verified": false,
    });
    const table = tableCells(run(["verify-job", "list"]));
    t.deepEqual(table[2], ["check", "store1", "-", "no", "-", "-", "-"]);
    t.regex(
      run(["verify-job", "run", "check", "--wait"]),
      /verified [23] snapshot\(s\), skipped 0.*\n.*TASK OK\n$/,
    );
    t.is(receiver.received.length, 1, "a passing job sends nothing");

    const digest = encodeChunk(ARCHIVE_DATA[0]!).digest.toString("hex");
    const path = store.chunks.pathOf(digest);
    const bytes = await readFile(path);
    bytes[bytes.length - 1]! ^= 1;
    await writeFile(path, bytes);
    const failed = daemon.manager(["verify-job", "run", "check", "--wait"]);
    t.is(failed.status, 1);
    t.regex(failed.stdout, new RegExp(`chunk ${digest} is corrupt`));
    t.regex(failed.stderr, /task failed: verification failed/);

    const note = JSON.parse((await receiver.nth(2)).body);
    t.like(note, {
      severity: "error",
      fields: { type: "verify", "job-id": "check", datastore: "store1" },
      result: "verification failed - please check the log for details",
    });
    t.true(
      note.log.some((line: string) => line.endsWith(`\thost/web/${formatSnapshotTime(TIMES[2]!)}`)),
    );
    t.true(note.problems.some((line: string) => line.includes(`chunk ${digest} is corrupt`)));

    const inUse = daemon.manager(["notification", "webhook", "remove", "ops"]);
    t.is(inUse.status, 1);
    t.regex(inUse.stderr, /webhook target ops is used by matcher problems/);
    run(["notification", "matcher", "remove", "problems"]);
    run(["notification", "webhook", "remove", "ops"]);
    run(["verify-job", "remove", "check"]);
    t.is(run(["verify-job", "list", "--output-format", "json"]).trim(), "[]");
  },
);
