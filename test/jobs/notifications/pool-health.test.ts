import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import type { Notification } from "../../../appliance/jobs/notifications/notification.js";
import {
  type PoolHealth,
  PoolHealthWatcher,
  poolHealthChanges,
} from "../../../appliance/jobs/notifications/pool-health.js";
import { parseZpoolList, poolListColumns } from "../../../appliance/system/zfs/zpool-list.js";
import { REPO_ROOT } from "../../helpers/cli.js";

/** A `zpool list -H` output recorded on a real machine, as the watcher sees it. */
function recorded(name: string, exact: boolean): PoolHealth[] {
  const text = readFileSync(join(REPO_ROOT, "test", "system", "fixtures", name), "utf8");
  return parseZpoolList(text, poolListColumns(exact), exact);
}

const healthy = (names: string[]): PoolHealth[] =>
  names.map((name) => ({ name, health: "ONLINE" }));

test("a pool turning DEGRADED is a warning, FAULTED an error; unchanged pools say nothing", (t) => {
  const openzfs = recorded("openzfs-list-p.txt", true);
  t.deepEqual(poolHealthChanges(healthy(["rpool", "backup"]), openzfs), [
    { pool: "backup", from: "ONLINE", to: "DEGRADED", severity: "warning" },
  ]);
  t.deepEqual(poolHealthChanges(openzfs, openzfs), []);
  const faulted = recorded("zfs-fuse-list-faulted.txt", false);
  t.deepEqual(poolHealthChanges(healthy(["dsjf8w0oq"]), faulted), [
    { pool: "dsjf8w0oq", from: "ONLINE", to: "FAULTED", severity: "error" },
  ]);
  t.deepEqual(poolHealthChanges(faulted, faulted), []);
  // another pool seen for the first time, already FAULTED
  t.deepEqual(poolHealthChanges(recorded("zfs-fuse-list.txt", false), faulted), [
    { pool: "dsjf8w0oq", to: "FAULTED", severity: "error" },
  ]);
});

test("the first look reports pools already bad; recovery is a notice; an exported pool is no change", (t) => {
  const degraded = recorded("zfs-fuse-list.txt", false);
  t.deepEqual(poolHealthChanges(undefined, degraded), [
    { pool: "sample", to: "DEGRADED", severity: "warning" },
  ]);
  t.deepEqual(poolHealthChanges(undefined, healthy(["rpool"])), []);
  t.deepEqual(poolHealthChanges(degraded, healthy(["sample"])), [
    { pool: "sample", from: "DEGRADED", to: "ONLINE", severity: "notice" },
  ]);
  t.deepEqual(poolHealthChanges(degraded, []), []);
});

test("the watcher notifies each change once, naming pool, state and host", async (t) => {
  const states = [
    healthy(["rpool", "backup"]),
    recorded("openzfs-list-p.txt", true),
    recorded("openzfs-list-p.txt", true),
    healthy(["rpool", "backup"]),
  ];
  const sent: Notification[] = [];
  const watcher = new PoolHealthWatcher({
    list: async () => states.shift()!,
    notify: (notification) => sent.push(notification),
    hostname: "vault",
    now: () => 1_800_000_000_000,
  });
  t.deepEqual(await watcher.check(), []);
  t.is((await watcher.check()).length, 1);
  t.deepEqual(await watcher.check(), []);
  t.is((await watcher.check()).length, 1);
  t.is(sent.length, 2);
  t.like(sent[0], {
    severity: "warning",
    title: "ZFS pool backup is DEGRADED on vault",
    fields: { type: "pool", pool: "backup", hostname: "vault" },
    timestamp: 1_800_000_000,
  });
  t.regex(sent[0]!.body, /now DEGRADED \(was ONLINE\)/);
  t.like(sent[1], { severity: "notice", title: "ZFS pool backup is ONLINE on vault" });
});
