import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import test, { type ExecutionContext } from "ava";
import { Datastore } from "../../appliance/datastore/datastore.js";
import { DatastoreError } from "../../appliance/datastore/errors.js";
import type { SnapshotRef } from "../../appliance/datastore/snapshots.js";
import { encodeBlob } from "../../appliance/format/blob.js";
import { encodeChunk } from "../../appliance/format/chunk.js";
import { writeSampleBackup } from "./fixtures/sample-backup.js";

const T0 = 1_700_000_000;
const OWNER = "root@pam";

const HOSTILE_COMPONENTS = ["..", ".", "", "a/b", "../victim", ".hidden", "a\0b", "x\n", "é", "-x"];
const HOSTILE_ARCHIVES = [
  "../victim/x.blob",
  "/tmp/x.blob",
  "a/../../x.fidx",
  "..didx",
  ".x.blob",
  "x.blob\0.fidx",
  "x.txt",
  "owner",
  "",
];
const HOSTILE_DIGESTS = [
  "../../victim/x",
  "AB".repeat(32),
  "ab".repeat(31),
  `${"ab".repeat(31)}/x`,
  `../${"a".repeat(61)}`,
  "",
];

/** Every file and directory below `dir` except the datastore, with sizes. */
function tree(dir: string, skip: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (path === skip) continue;
      const info = statSync(path);
      found.push(`${relative(dir, path)}:${info.isDirectory() ? "dir" : info.size}`);
      if (info.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return found.sort();
}

async function setup(t: ExecutionContext) {
  const parent = mkdtempSync(join(tmpdir(), "cairn-hostile-"));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  mkdirSync(join(parent, "victim"));
  writeFileSync(join(parent, "victim", "data"), "do not touch");
  const root = join(parent, "store");
  const datastore = await Datastore.create(root, {
    name: "store1",
    syncLevel: "none",
    preallocate: false,
  });
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const before = tree(parent, root);
  const unchanged = () =>
    t.deepEqual(tree(parent, root), before, "nothing changed outside the datastore");
  return { datastore, backup, unchanged };
}

/** The call is refused with a DatastoreError of a naming kind whose message shows the value. */
async function refused(t: ExecutionContext, call: () => Promise<unknown>, label: string) {
  const error = await t.throwsAsync(call, undefined, label);
  t.true(error instanceof DatastoreError, `${label}: ${error?.message}`);
  t.regex(
    (error as DatastoreError).code,
    /^CAIRN_E_DATASTORE_BAD_(NAME|TIME|DIGEST)$/,
    `${label}: ${error?.message}`,
  );
  t.regex(error!.message, /^invalid /, label);
}

test("hostile namespaces are refused everywhere", async (t) => {
  const { datastore, unchanged } = await setup(t);
  for (const component of HOSTILE_COMPONENTS) {
    const ns = [component];
    await refused(t, () => datastore.createNamespace(ns), `create ${JSON.stringify(component)}`);
    await refused(
      t,
      () => datastore.createNamespace(["x", component]),
      `create nested ${JSON.stringify(component)}`,
    );
    await refused(t, () => datastore.listNamespaces(ns), `list ${JSON.stringify(component)}`);
    await refused(t, () => datastore.listGroups(ns), `groups ${JSON.stringify(component)}`);
    await refused(t, () => datastore.listSnapshots(ns), `snapshots ${JSON.stringify(component)}`);
    await refused(
      t,
      () => datastore.deleteNamespace(ns, { deleteGroups: true }),
      `delete ${JSON.stringify(component)}`,
    );
    await refused(
      t,
      () => datastore.beginBackup({ ns, type: "vm", id: "1", time: T0, owner: OWNER }),
      `backup into ${JSON.stringify(component)}`,
    );
  }
  await refused(t, () => datastore.createNamespace("a/b" as unknown as string[]), "a string");
  unchanged();
});

test("hostile backup types, ids, times and owners are refused", async (t) => {
  const { datastore, backup, unchanged } = await setup(t);
  for (const id of HOSTILE_COMPONENTS) {
    const label = `id ${JSON.stringify(id)}`;
    await refused(
      t,
      () => datastore.beginBackup({ type: "vm", id, time: T0 + 1, owner: OWNER }),
      label,
    );
    await refused(t, () => datastore.listSnapshots([], { type: "vm", id }), label);
    await refused(t, () => datastore.getOwner([], "vm", id), label);
    await refused(t, () => datastore.setOwner([], "vm", id, OWNER), label);
    await refused(t, () => datastore.setGroupNotes([], "vm", id, "x"), label);
    await refused(t, () => datastore.deleteGroup([], "vm", id), label);
    await refused(t, () => datastore.prune([], "vm", id, { keepLast: 1 }), label);
    const ref = { ...backup.ref, id };
    await refused(t, () => datastore.deleteSnapshot(ref), label);
    await refused(t, () => datastore.openReader(ref), label);
    await refused(t, () => datastore.setProtected(ref, true), label);
    await refused(t, () => datastore.setNotes(ref, "x"), label);
  }
  for (const type of ["../vm", "VM", "vm/..", ""]) {
    const hostile = type as "vm";
    await refused(
      t,
      () => datastore.beginBackup({ type: hostile, id: "1", time: T0, owner: OWNER }),
      `type ${type}`,
    );
    await refused(t, () => datastore.deleteGroup([], hostile, "100"), `type ${type}`);
  }
  for (const time of [Number.NaN, -1, 0, 1.5, 1e20, Number.POSITIVE_INFINITY]) {
    await refused(
      t,
      () => datastore.beginBackup({ type: "vm", id: "1", time, owner: OWNER }),
      `time ${time}`,
    );
    await refused(t, () => datastore.deleteSnapshot({ ...backup.ref, time }), `time ${time}`);
  }
  for (const owner of ["root@pam\nadmin@pam", "", "nobody", "a b@pam", "x@pam!../y", "x@../pam"]) {
    await refused(
      t,
      () => datastore.beginBackup({ type: "vm", id: "9", time: T0, owner }),
      `owner ${JSON.stringify(owner)}`,
    );
    await refused(
      t,
      () => datastore.setOwner([], "vm", "100", owner),
      `owner ${JSON.stringify(owner)}`,
    );
  }
  t.deepEqual(
    (await datastore.listGroups([])).map((g) => g.id),
    ["100"],
    "no group was created",
  );
  t.is(await datastore.getOwner([], "vm", "100"), "backup@pbs");
  unchanged();
});

test("hostile archive names are refused by the writer and the reader", async (t) => {
  const { datastore, backup, unchanged } = await setup(t);
  const writer = await datastore.beginBackup({
    type: "vm",
    id: "100",
    time: T0 + 1,
    owner: "backup@pbs",
  });
  const blob = encodeBlob(Buffer.from("x"));
  const reader = await datastore.openReader(backup.ref);
  try {
    for (const name of HOSTILE_ARCHIVES) {
      const label = `archive ${JSON.stringify(name)}`;
      await refused(t, () => writer.writeBlob(name, blob), label);
      await refused(t, () => writer.createFixedIndex(name, 4096, 4096), label);
      await refused(t, () => writer.createDynamicIndex(name), label);
      await refused(t, () => reader.readFile(name), label);
      await refused(t, () => writer.readPreviousFile(name), label);
    }
  } finally {
    reader.close();
  }
  t.deepEqual(readdirSync(writer.dir), [], "nothing written into the snapshot");
  await writer.abort();
  unchanged();
});

test("hostile digests are refused for chunk inserts and reads", async (t) => {
  const { datastore, backup, unchanged } = await setup(t);
  const writer = await datastore.beginBackup({
    type: "vm",
    id: "100",
    time: T0 + 1,
    owner: "backup@pbs",
  });
  const chunk = encodeChunk(Buffer.from("payload"));
  const reader = await datastore.openReader(backup.ref);
  try {
    for (const digest of HOSTILE_DIGESTS) {
      const label = `digest ${JSON.stringify(digest)}`;
      await refused(t, () => writer.insertChunk(digest, chunk.encoded, 7), label);
      await refused(t, () => reader.readChunk(digest), label);
    }
  } finally {
    reader.close();
    await writer.abort();
  }
  unchanged();
});

test("a hostile snapshot reference object cannot steer a path", async (t) => {
  const { datastore, backup, unchanged } = await setup(t);
  const refs: SnapshotRef[] = [
    { ...backup.ref, ns: ["..", ".."] },
    { ...backup.ref, ns: "../.." as unknown as string[] },
    { ...backup.ref, type: "../../victim" as "vm" },
    { ...backup.ref, time: "2023-11-14T22:13:20Z/../../x" as unknown as number },
  ];
  for (const ref of refs) {
    await refused(t, () => datastore.deleteSnapshot(ref), JSON.stringify(ref));
    await refused(t, () => datastore.snapshotInfo(ref), JSON.stringify(ref));
    await refused(t, () => datastore.updateManifest(ref, (m) => m), JSON.stringify(ref));
  }
  t.true((await datastore.snapshotInfo(backup.ref)).finished);
  unchanged();
});
