import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { Datastore } from "../../appliance/datastore/datastore.js";
import { pruneSelect } from "../../appliance/datastore/prune.js";
import { writeSampleBackup } from "./fixtures/sample-backup.js";

const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z
const HOUR = 3600;
const DAY = 24 * HOUR;

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), "cairn-datastore-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function tempDatastore(t: ExecutionContext): Promise<Datastore> {
  return Datastore.create(join(tempDir(t), "store"), {
    name: "store1",
    syncLevel: "none",
    preallocate: false,
  });
}

function code(kind: string): { code: string } {
  return { code: `CAIRN_E_DATASTORE_${kind.toUpperCase().replaceAll("-", "_")}` };
}

// ---- create and open ----

test("create lays out .chunks and .locks; open finds it again", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "store");
  const created = await Datastore.create(path, { name: "store1", preallocate: false });
  t.deepEqual(readdirSync(path).sort(), [".chunks", ".locks"]);
  t.is(created.name, "store1");
  t.is(created.syncLevel, "filesystem");
  const opened = await Datastore.open(path, { syncLevel: "file" });
  t.is(opened.syncLevel, "file");
  t.deepEqual(await opened.listGroups([]), []);
});

test("create refuses a directory that is not empty, and a bad name; open refuses a non-datastore", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "something"), "");
  await t.throwsAsync(Datastore.create(dir, { name: "store1", preallocate: false }), {
    ...code("not-empty"),
    message: /not empty/,
  });
  t.deepEqual(readdirSync(dir), ["something"]);
  await t.throwsAsync(Datastore.create(join(dir, "x"), { name: "a/b" }), code("bad-name"));
  t.false(existsSync(join(dir, "x")));
  await t.throwsAsync(Datastore.open(dir), code("not-a-datastore"));
});

test("create accepts an empty file system root with lost+found", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "lost+found"));
  await Datastore.create(dir, { name: "store1", preallocate: false });
  t.true(existsSync(join(dir, ".chunks")));
});

// ---- namespaces ----

test("namespaces: create level by level, list recursively with a depth limit, refuse duplicates", async (t) => {
  const datastore = await tempDatastore(t);
  await t.throwsAsync(datastore.createNamespace(["a", "b"]), {
    ...code("not-found"),
    message: /namespace a does not exist/,
  });
  await datastore.createNamespace(["a"]);
  await datastore.createNamespace(["a", "b"]);
  await datastore.createNamespace(["a", "b", "c"]);
  await datastore.createNamespace(["z"]);
  t.true(existsSync(join(datastore.root, "ns/a/ns/b/ns/c")));
  await t.throwsAsync(datastore.createNamespace(["a"]), code("exists"));
  t.deepEqual(await datastore.listNamespaces(), [[], ["a"], ["a", "b"], ["a", "b", "c"], ["z"]]);
  t.deepEqual(await datastore.listNamespaces([], 1), [[], ["a"], ["z"]]);
  t.deepEqual(await datastore.listNamespaces(["a"], 1), [["a"], ["a", "b"]]);
  t.deepEqual(await datastore.listNamespaces(["a", "b"], 0), [["a", "b"]]);
  await t.throwsAsync(datastore.listNamespaces(["nope"]), code("not-found"));
  await t.throwsAsync(datastore.listNamespaces([], 8), code("bad-name"));
});

test("namespaces: at most 7 levels below the root", async (t) => {
  const datastore = await tempDatastore(t);
  const levels = ["1", "2", "3", "4", "5", "6", "7"];
  for (let depth = 1; depth <= 7; depth++) await datastore.createNamespace(levels.slice(0, depth));
  await t.throwsAsync(datastore.createNamespace([...levels, "8"]), {
    ...code("bad-name"),
    message: /more than 7 levels deep/,
  });
  t.is((await datastore.listNamespaces()).length, 8);
});

test("namespaces: delete only when empty, or with delete-groups; protected snapshots keep theirs", async (t) => {
  const datastore = await tempDatastore(t);
  await datastore.createNamespace(["a"]);
  await datastore.createNamespace(["a", "b"]);
  await datastore.createNamespace(["e"]);
  await writeSampleBackup(datastore, { ns: ["a", "b"], time: T0 });
  const kept = await writeSampleBackup(datastore, { ns: ["a"], id: "7", time: T0 });

  await t.throwsAsync(datastore.deleteNamespace([]), code("bad-state"));
  await datastore.deleteNamespace(["e"]);
  t.false(existsSync(join(datastore.root, "ns/e")));

  await t.throwsAsync(datastore.deleteNamespace(["a"]), {
    ...code("not-empty"),
    message: /holds 2 backup group/,
  });
  t.is((await datastore.listSnapshots(["a", "b"])).length, 1, "nothing removed");

  await datastore.setProtected(kept.ref, true);
  await t.throwsAsync(datastore.deleteNamespace(["a"], { deleteGroups: true }), {
    ...code("not-empty"),
    message: /not removed completely: ns\/a\/vm\/7: .*protected/,
  });
  t.false(existsSync(join(datastore.root, "ns/a/ns/b")), "the unprotected part is gone");
  t.true(existsSync(datastore.snapshotDir(kept.ref)));

  await datastore.setProtected(kept.ref, false);
  await datastore.deleteNamespace(["a"], { deleteGroups: true });
  t.deepEqual(readdirSync(join(datastore.root, "ns")), []);
  t.deepEqual(await datastore.listNamespaces(), [[]]);
});

test("namespaces: delete-groups respects the group lock of a running backup", async (t) => {
  const datastore = await tempDatastore(t);
  await datastore.createNamespace(["a"]);
  const writer = await datastore.beginBackup({
    ns: ["a"],
    type: "ct",
    id: "5",
    time: T0,
    owner: "root@pam",
  });
  await t.throwsAsync(datastore.deleteNamespace(["a"], { deleteGroups: true }), {
    message: /ns\/a\/ct\/5: backup group ns\/a\/ct\/5 is locked/,
  });
  t.true(existsSync(writer.dir));
  await writer.abort();
});

// ---- groups ----

test("groups are listed PBS-sorted with owner, last finished backup, count and comment", async (t) => {
  const datastore = await tempDatastore(t);
  await writeSampleBackup(datastore, { type: "vm", id: "100", time: T0 });
  await writeSampleBackup(datastore, { type: "vm", id: "100", time: T0 + 10 });
  await writeSampleBackup(datastore, { type: "vm", id: "20", time: T0, owner: "alice@pbs" });
  await writeSampleBackup(datastore, { type: "host", id: "web", time: T0 });
  await writeSampleBackup(datastore, { type: "ct", id: "abc", time: T0 });
  mkdirSync(datastore.snapshotDir({ ns: [], type: "vm", id: "100", time: T0 + 20 })); // unfinished
  await datastore.setGroupNotes([], "host", "web", "web server\nsecond line");
  const groups = await datastore.listGroups([]);
  t.deepEqual(
    groups.map((g) => [g.type, g.id, g.owner, g.lastBackup, g.backupCount, g.comment]),
    [
      ["ct", "abc", "backup@pbs", T0, 1, undefined],
      ["host", "web", "backup@pbs", T0, 1, "web server"],
      ["vm", "20", "alice@pbs", T0, 1, undefined],
      ["vm", "100", "backup@pbs", T0 + 10, 3, undefined],
    ],
  );
});

test("change of owner rewrites the owner file, but not during a backup", async (t) => {
  const datastore = await tempDatastore(t);
  await writeSampleBackup(datastore, { time: T0 });
  await datastore.setOwner([], "vm", "100", "carol@pam");
  t.is(await datastore.getOwner([], "vm", "100"), "carol@pam");
  const writer = await datastore.beginBackup({
    type: "vm",
    id: "100",
    time: T0 + 1,
    owner: "carol@pam",
  });
  await t.throwsAsync(datastore.setOwner([], "vm", "100", "dave@pam"), code("lock-busy"));
  await writer.abort();
  await t.throwsAsync(datastore.setOwner([], "vm", "100", "no owner"), code("bad-name"));
  await t.throwsAsync(datastore.setOwner([], "vm", "999", "dave@pam"), code("not-found"));
});

test("group notes are written atomically and read back", async (t) => {
  const datastore = await tempDatastore(t);
  await writeSampleBackup(datastore, { time: T0 });
  t.is(await datastore.getGroupNotes([], "vm", "100"), "");
  await datastore.setGroupNotes([], "vm", "100", "first\nsecond");
  t.is(await datastore.getGroupNotes([], "vm", "100"), "first\nsecond");
  t.deepEqual(readdirSync(datastore.groupDir([], "vm", "100")).sort(), [
    "2023-11-14T22:13:20Z",
    "notes",
    "owner",
  ]);
  await t.throwsAsync(datastore.setGroupNotes([], "vm", "1", "x"), code("not-found"));
});

// ---- snapshots ----

test("snapshot notes live in the manifest; the first line is the comment", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  t.is(await datastore.getNotes(backup.ref), "");
  await datastore.setNotes(backup.ref, "before the upgrade\ndetails");
  t.is(await datastore.getNotes(backup.ref), "before the upgrade\ndetails");
  const manifest = await datastore.readManifest(backup.ref);
  t.is(manifest.unprotected.notes, "before the upgrade\ndetails");
  t.deepEqual(manifest.files, backup.manifest.files, "files untouched");
  t.truthy(manifest.unprotected.chunk_upload_stats, "other unprotected keys kept");
  const [info] = await datastore.listSnapshots([]);
  t.is(info!.comment, "before the upgrade");

  const unfinished = { ...backup.ref, time: T0 + 5 };
  mkdirSync(datastore.snapshotDir(unfinished));
  await t.throwsAsync(datastore.setNotes(unfinished, "x"), code("not-found"));
  await t.throwsAsync(datastore.getNotes({ ...backup.ref, time: T0 + 9 }), code("not-found"));
});

test("listing a namespace covers all its groups; listing a missing group is an error", async (t) => {
  const datastore = await tempDatastore(t);
  await writeSampleBackup(datastore, { type: "vm", id: "2", time: T0 });
  await writeSampleBackup(datastore, { type: "ct", id: "1", time: T0 + 5 });
  await writeSampleBackup(datastore, { type: "ct", id: "1", time: T0 + 9 });
  t.deepEqual(
    (await datastore.listSnapshots([])).map((s) => `${s.type}/${s.id}/${s.time - T0}`),
    ["ct/1/5", "ct/1/9", "vm/2/0"],
  );
  await t.throwsAsync(datastore.listSnapshots([], { type: "vm", id: "3" }), code("not-found"));
});

test("a protected snapshot survives delete, group delete and prune", async (t) => {
  const datastore = await tempDatastore(t);
  const old = await writeSampleBackup(datastore, { time: T0 });
  await writeSampleBackup(datastore, { time: T0 + DAY });
  await datastore.setProtected(old.ref, true);
  t.true(await datastore.isProtected(old.ref));
  t.true(existsSync(join(datastore.snapshotDir(old.ref), ".protected")));
  t.true((await datastore.listSnapshots([]))[0]!.protected);

  await t.throwsAsync(datastore.deleteSnapshot(old.ref), {
    ...code("protected"),
    message: /vm\/100\/2023-11-14T22:13:20Z is protected/,
  });
  await t.throwsAsync(datastore.deleteGroup([], "vm", "100"), {
    ...code("protected"),
    message: /1 protected snapshot\(s\) \(2023-11-14T22:13:20Z\)/,
  });
  t.is((await datastore.listSnapshots([])).length, 2, "group delete removed nothing");

  const result = await datastore.prune([], "vm", "100", { keepLast: 1 }, { timeZone: "UTC" });
  t.deepEqual(
    result.map((r) => [r["backup-time"], r.keep, r.protected]),
    [
      [T0 + DAY, true, false],
      [T0, true, true],
    ],
  );
  t.true(existsSync(datastore.snapshotDir(old.ref)));

  await datastore.setProtected(old.ref, false);
  await datastore.deleteSnapshot(old.ref);
  t.false(existsSync(datastore.snapshotDir(old.ref)));
});

test("delete waits for no reader: a snapshot being read cannot be removed", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const reader = await datastore.openReader(backup.ref);
  await t.throwsAsync(datastore.deleteSnapshot(backup.ref), {
    ...code("lock-busy"),
    message: /snapshot vm\/100\/2023-11-14T22:13:20Z is locked.*remove the snapshot/,
  });
  reader.close();
  await t.throwsAsync(reader.readFile("disk.img.fidx"), code("bad-state"));
  await datastore.deleteSnapshot(backup.ref);
  await t.throwsAsync(datastore.deleteSnapshot(backup.ref), code("not-found"));
});

// ---- prune ----

/** Six finished snapshots over four days and one old unfinished one. */
async function pruneFixture(t: ExecutionContext, ns: string[] = []) {
  const datastore = await tempDatastore(t);
  for (const part of ns.map((_, i) => ns.slice(0, i + 1))) await datastore.createNamespace(part);
  const times = [0, HOUR, DAY, DAY + HOUR, 2 * DAY, 3 * DAY].map((offset) => T0 + offset);
  for (const time of times) await writeSampleBackup(datastore, { ns, time, seed: "p" });
  const unfinished = { ns, type: "vm" as const, id: "100", time: T0 + 30 };
  mkdirSync(datastore.snapshotDir(unfinished));
  return { datastore, times, unfinished };
}

test("prune removes exactly what pruneSelect marks, oldest first, and returns PBS-shaped lines", async (t) => {
  const { datastore, unfinished } = await pruneFixture(t);
  const options = { keepLast: 1, keepDaily: 2 };
  const before = await datastore.listSnapshots([], { type: "vm", id: "100" });
  const expected = pruneSelect(
    before.map((s) => ({ ...s, backupTime: s.time })),
    options,
    { timeZone: "UTC" },
  );

  const logs: string[] = [];
  const dry = await datastore.prune([], "vm", "100", options, {
    dryRun: true,
    timeZone: "UTC",
    onLog: (_, message) => logs.push(message),
  });
  const shaped = expected.map((d) => ({
    "backup-type": "vm",
    "backup-id": "100",
    "backup-time": d.snapshot.time,
    keep: d.keep,
    protected: false,
  }));
  t.deepEqual(dry, shaped);
  t.is((await datastore.listSnapshots([])).length, before.length, "dry run removes nothing");
  t.true(logs.includes("vm/100/2023-11-17T22:13:20Z keep-last"));
  t.true(logs.includes("vm/100/2023-11-14T22:13:50Z remove"));

  const result = await datastore.prune([], "vm", "100", options, { timeZone: "UTC" });
  t.deepEqual(result, shaped);
  const left = (await datastore.listSnapshots([])).map((s) => s.time);
  t.deepEqual(
    left,
    expected
      .filter((d) => d.keep)
      .map((d) => d.snapshot.time)
      .reverse(),
  );
  t.false(existsSync(datastore.snapshotDir(unfinished)), "the stale unfinished one went too");
  t.is(left.length, 3);
});

test("prune skips a snapshot it cannot lock, with a warning, and carries on", async (t) => {
  const { datastore, times } = await pruneFixture(t, ["site"]);
  const busy = await datastore.openReader({ ns: ["site"], type: "vm", id: "100", time: times[0]! });
  const warnings: string[] = [];
  const result = await datastore.prune(
    ["site"],
    "vm",
    "100",
    { keepLast: 2 },
    {
      onLog: (level, message) => level === "warn" && warnings.push(message),
    },
  );
  busy.close();
  t.true(result.every((line) => line.ns === "site"));
  t.is(result.filter((line) => !line.keep).length, 5);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /failed to remove \[ns site\] vm\/100\/2023-11-14T22:13:20Z: .*locked/);
  t.deepEqual(
    (await datastore.listSnapshots(["site"])).map((s) => s.time),
    [times[0], times[4], times[5]],
  );
});

test("prune without options keeps everything", async (t) => {
  const { datastore } = await pruneFixture(t);
  const result = await datastore.prune([], "vm", "100", {});
  t.true(result.every((line) => line.keep));
  t.is((await datastore.listSnapshots([])).length, 7);
});

// ---- status ----

test("status counts groups and snapshots per type over every namespace, and reads .gc-status", async (t) => {
  const datastore = await tempDatastore(t);
  await datastore.createNamespace(["a"]);
  await writeSampleBackup(datastore, { type: "vm", id: "1", time: T0 });
  await writeSampleBackup(datastore, { type: "vm", id: "1", time: T0 + 1 });
  await writeSampleBackup(datastore, { ns: ["a"], type: "vm", id: "2", time: T0 });
  await writeSampleBackup(datastore, { ns: ["a"], type: "host", id: "h", time: T0 });
  mkdirSync(join(datastore.root, "ct", "empty"), { recursive: true }); // an empty group is not counted

  const first = await datastore.status();
  t.deepEqual(first.counts, {
    ct: { groups: 0, snapshots: 0 },
    host: { groups: 1, snapshots: 1 },
    vm: { groups: 2, snapshots: 3 },
  });
  t.true(first.total > 0 && first.avail > 0 && first.used > 0);
  t.true(first.avail <= first.total - first.used);
  t.is(first.gcStatus, undefined);

  writeFileSync(join(datastore.root, ".gc-status"), JSON.stringify({ "removed-chunks": 4 }));
  t.deepEqual((await datastore.status()).gcStatus as unknown, { "removed-chunks": 4 });
});
