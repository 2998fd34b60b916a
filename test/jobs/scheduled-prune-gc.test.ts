import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import type { Datastore } from "../../appliance/datastore/datastore.js";
import { pruneSelect } from "../../appliance/datastore/prune.js";
import { encodeBlob } from "../../appliance/format/blob.js";
import { encodeChunk } from "../../appliance/format/chunk.js";
import { addManifestFile, newManifest } from "../../appliance/format/manifest.js";
import { JobStateStore } from "../../appliance/jobs/job-state.js";
import { Scheduler } from "../../appliance/jobs/scheduler.js";
import { datastoreConfigFile } from "../../appliance/server/config/datastore-config.js";
import { createJobs, type Jobs } from "../../appliance/server/routes/jobs-setup.js";
import { api } from "../server/helpers/client.js";
import { addStore } from "../server/helpers/snapshots.js";
import { tokenHeader } from "../server/helpers/stand-in-access.js";
import { startTestServer } from "../server/helpers/test-server.js";

const HOUR = 3600;
const DAY = 24 * HOUR;
const ROOT = tokenHeader("root@pam");
const SHARED = Buffer.alloc(3000, 7);

/** A finished snapshot whose index holds one chunk shared by all and one of its own. */
async function addSnapshot(store: Datastore, time: number): Promise<string> {
  const writer = await store.beginBackup({
    ns: [],
    type: "host",
    id: "web",
    time,
    owner: "root@pam",
  });
  const blob = await writer.writeBlob(
    "notes.conf.blob",
    encodeBlob(Buffer.from("n"), { compress: true }),
  );
  const index = await writer.createDynamicIndex("root.pxar.didx");
  const own = Buffer.from(`data of the snapshot at ${time} `.repeat(100));
  let end = 0;
  let ownDigest = "";
  for (const data of [SHARED, own]) {
    const chunk = encodeChunk(data);
    await writer.insertChunk(chunk.digest, chunk.encoded, data.length);
    end += data.length;
    await index.writer.append(end, chunk.digest);
    ownDigest = chunk.digest.toString("hex");
  }
  const closed = await index.close();
  let manifest = newManifest({ backupType: "host", backupId: "web", backupTime: time });
  manifest = addManifestFile(manifest, {
    filename: "notes.conf.blob",
    size: blob.size,
    csum: blob.csum,
  });
  manifest = addManifestFile(manifest, {
    filename: "root.pxar.didx",
    size: closed.size,
    csum: closed.csum,
  });
  await writer.finish(manifest);
  return ownDigest;
}

test("a scheduled prune job leaves what pruneSelect keeps, and scheduled GC frees only the chunks of pruned snapshots", async (t) => {
  // the clock runs days ahead of the file system's, so GC's atime cutoff lies after every chunk's creation
  const base = (Math.floor(Date.now() / 1000 / DAY) + 4) * DAY;
  let clock = (base - 12 * HOUR) * 1000;
  const root = await mkdtemp(join(tmpdir(), "cairn-jobs-"));
  const configDir = join(root, "config");
  const stateDir = join(root, "state");
  let jobs!: Jobs;
  const server = await startTestServer({
    root,
    extraRoutes: (services) => {
      jobs = createJobs(services, { configDir, stateDir, now: () => clock, timeZone: "UTC" });
      return jobs.routes;
    },
  });
  t.teardown(() => server.stop());
  const store = await addStore(configDir, "store1", join(root, "store1"));

  // every 6 hours over the 3 days before `base`
  const times = Array.from({ length: 12 }, (_, k) => base - (12 - k) * 6 * HOUR);
  const ownChunk = new Map<number, string>();
  for (const time of times) ownChunk.set(time, await addSnapshot(store, time));

  const create = await api(server.port, "POST", "/api2/json/config/prune", {
    headers: ROOT,
    body: { id: "retention", store: "store1", schedule: "daily", "keep-last": 2, "keep-daily": 2 },
  });
  t.is(create.status, 200, create.body.toString());
  const bad = await api(server.port, "POST", "/api2/json/config/prune", {
    headers: ROOT,
    body: { id: "other", store: "store1", schedule: "dayly" },
  });
  t.is(bad.status, 400);
  t.regex(bad.body.toString(), /invalid calendar event \\"dayly\\"/);
  await datastoreConfigFile(configDir).update((file) => ({
    datastore: { store1: { ...file.datastore.store1!, "gc-schedule": "01:00" } },
  }));

  // first look: nothing has run, nothing is due before midnight
  await jobs.scheduler.tick();
  const before = await api(server.port, "GET", "/api2/json/admin/prune", { headers: ROOT });
  t.is(before.json.data[0]["next-run"], base);
  t.is(before.json.data[0]["last-run-upid"], undefined);

  clock = (base + 1) * 1000;
  await jobs.scheduler.tick();
  await jobs.scheduler.idle();

  const expected = pruneSelect(
    times.map((time) => ({ backupTime: time, finished: true, protected: false })),
    { keepLast: 2, keepDaily: 2 },
    { timeZone: "UTC" },
  );
  const kept = expected.filter((d) => d.keep).map((d) => d.snapshot.backupTime);
  const removed = expected.filter((d) => !d.keep).map((d) => d.snapshot.backupTime);
  // by hand: the last two (base-12h, base-6h), then the newest of the two days before (base-1d-6h, base-2d-6h)
  t.deepEqual(kept, [
    base - 6 * HOUR,
    base - 12 * HOUR,
    base - DAY - 6 * HOUR,
    base - 2 * DAY - 6 * HOUR,
  ]);
  const left = (await store.listSnapshots([], { type: "host", id: "web" })).map((s) => s.time);
  t.deepEqual([...left].sort(), [...kept].sort());

  // GC is not due until 01:00: the pruned snapshots' chunks are still there
  for (const time of removed) t.true(existsSync(store.chunks.pathOf(ownChunk.get(time)!)));
  clock = (base + HOUR + 1) * 1000;
  await jobs.scheduler.tick();
  await jobs.scheduler.idle();
  for (const time of removed)
    t.false(existsSync(store.chunks.pathOf(ownChunk.get(time)!)), `chunk of ${time}`);
  for (const time of kept)
    t.true(existsSync(store.chunks.pathOf(ownChunk.get(time)!)), `chunk of ${time}`);
  t.true(existsSync(store.chunks.pathOf(encodeChunk(SHARED).digest.toString("hex"))));

  const prune = (await api(server.port, "GET", "/api2/json/admin/prune", { headers: ROOT })).json
    .data;
  t.is(prune.length, 1);
  t.like(prune[0], {
    id: "retention",
    store: "store1",
    "last-run-state": "OK",
    "next-run": base + DAY,
  });
  t.regex(
    prune[0]["last-run-upid"],
    /^UPID:testnode:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:prunejob:store1\\x3aretention:root@pam:$/,
  );
  const gc = (await api(server.port, "GET", "/api2/json/admin/gc", { headers: ROOT })).json.data;
  t.like(gc[0], {
    store: "store1",
    schedule: "01:00",
    "last-run-state": "OK",
    "next-run": base + DAY + HOUR,
  });
  const log = await server.server.tasks.readLog(gc[0]["last-run-upid"], 0, 0);
  t.true(
    log.lines.some((line) => /removed|Removed/.test(line.t)),
    JSON.stringify(log.lines),
  );

  // a restart three days later catches up once, not three times
  clock = (base + 3 * DAY + 5 * HOUR) * 1000;
  const restarted = new Scheduler({
    jobs: () => jobs.list(),
    tasks: server.server.tasks,
    states: new JobStateStore(join(stateDir, "jobstates")),
    now: () => clock,
    timeZone: "UTC",
  });
  const firstPrune = prune[0]["last-run-upid"];
  await restarted.tick();
  await restarted.idle();
  const after = await restarted.status({ kind: "prune", id: "retention", schedule: "daily" });
  t.not(after["last-run-upid"], firstPrune);
  t.is(after["next-run"], base + 4 * DAY);
  await restarted.tick();
  await restarted.idle();
  t.is(
    (await restarted.status({ kind: "prune", id: "retention", schedule: "daily" }))[
      "last-run-upid"
    ],
    after["last-run-upid"],
  );
});
