import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import type { Datastore } from "../../appliance/datastore/datastore.js";
import type { SnapshotRef } from "../../appliance/datastore/snapshots.js";
import { Verifier, verifySnapshot } from "../../appliance/datastore/verify.js";
import { parseGroupFilter } from "../../appliance/jobs/group-filter.js";
import { pullSync } from "../../appliance/jobs/sync-pull.js";
import type { SyncSource } from "../../appliance/jobs/sync-source.js";
import { remoteSyncSource } from "../../appliance/jobs/sync-source-remote.js";
import { remoteEndpoint } from "../../appliance/server/config/remote-config-file.js";
import { MiB, sampleContent } from "../protocol/fixtures/content.js";
import { restoreArchive } from "../protocol/fixtures/restore.js";
import { T0 } from "../protocol/fixtures/sessions.js";
import { api } from "../server/helpers/client.js";
import {
  backup,
  chunkSet,
  encryptedBackup,
  finishedSnapshots,
  runJob,
  show,
} from "./fixtures/sync-backups.js";
import { STORE, startSite } from "./fixtures/sync-sites.js";

/** Every file of the snapshot directory, by name. */
async function snapshotFiles(store: Datastore, ref: SnapshotRef): Promise<Map<string, Buffer>> {
  const dir = store.snapshotDir(ref);
  const files = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(join(dir, name)));
  return files;
}

function downloadedCount(log: string[]): number {
  const line = log.find((each) => / chunk\(s\) downloaded/.test(each));
  if (line === undefined) throw new Error(`no summary in the log:\n${log.join("\n")}`);
  return Number(/(\d+) chunk\(s\) downloaded/.exec(line)![1]);
}

/** A source that counts chunk downloads and can fail after a number of them. */
function countingSource(source: SyncSource, failAfter?: number) {
  const fetched: string[] = [];
  const counting: SyncSource = {
    description: source.description,
    namespaces: (parent, depth) => source.namespaces(parent, depth),
    groups: (ns) => source.groups(ns),
    snapshots: (ns, group) => source.snapshots(ns, group),
    close: () => source.close(),
    open: async (ref) => {
      const snapshot = await source.open(ref);
      return {
        file: (name) => snapshot.file(name),
        chunk: async (digest) => {
          if (failAfter !== undefined && fetched.length >= failAfter) {
            throw new Error("connection lost (injected)");
          }
          const bytes = await snapshot.chunk(digest);
          fetched.push(digest);
          return bytes;
        },
        close: () => snapshot.close(),
      };
    },
  };
  return { source: counting, fetched };
}

test("pull sync between two servers: verified copies, only new chunks, resume, remove-vanished", async (t) => {
  const [a, b] = await Promise.all([startSite(t, "a"), startSite(t, "b")]);

  // several groups on A, one of them encrypted with a key neither server has
  await backup(a, { type: "vm", id: "100", time: T0 }, sampleContent("vm100", MiB));
  await backup(a, { type: "vm", id: "100", time: T0 + 3600 }, sampleContent("vm100", MiB));
  await backup(a, { type: "ct", id: "200", time: T0 }, sampleContent("ct200", MiB));
  await backup(
    a,
    { type: "host", id: "web", time: T0 },
    sampleContent("web", MiB, [40_000, 70_000]),
  );
  await encryptedBackup(a.store, { type: "host", id: "secret", time: T0 }, a.tokenId);

  // B learns about A
  const remote = await api(b.port, "POST", "/api2/json/config/remote", {
    headers: b.headers,
    body: {
      name: "site-a",
      host: "127.0.0.1",
      port: a.port,
      "auth-id": a.tokenId,
      password: a.secret,
      fingerprint: a.fingerprint,
    },
  });
  t.is(remote.status, 200, remote.body.toString());
  const remoteFile = join(b.jobs.remotes.dir, "remote.json");
  t.is((await stat(remoteFile)).mode & 0o777, 0o600);
  t.false((await readFile(remoteFile, "utf8")).includes(a.secret), "the secret is not in clear");
  const shown = await api(b.port, "GET", "/api2/json/config/remote/site-a", { headers: b.headers });
  t.like(shown.json.data, { name: "site-a", host: "127.0.0.1", port: a.port });
  t.false("password" in shown.json.data);

  const scan = await api(b.port, "GET", "/api2/json/config/remote/site-a/scan", {
    headers: b.headers,
  });
  t.deepEqual(
    scan.json.data.map((item: { store: string }) => item.store),
    [STORE],
  );
  const groups = await api(b.port, "GET", `/api2/json/config/remote/site-a/scan/${STORE}/groups`, {
    headers: b.headers,
  });
  t.deepEqual(
    groups.json.data.map((g: Record<string, string>) => `${g["backup-type"]}/${g["backup-id"]}`),
    ["ct/200", "host/secret", "host/web", "vm/100"],
  );
  const namespaces = await api(
    b.port,
    "GET",
    `/api2/json/config/remote/site-a/scan/${STORE}/namespaces`,
    { headers: b.headers },
  );
  t.deepEqual(namespaces.json.data, [{ ns: "" }]);

  const job = await api(b.port, "POST", "/api2/json/config/sync", {
    headers: b.headers,
    body: {
      id: "from-a",
      store: STORE,
      remote: "site-a",
      "remote-store": STORE,
      "remove-vanished": true,
      "rate-in": "1GiB",
    },
  });
  t.is(job.status, 200, job.body.toString());
  const listed = await api(b.port, "GET", "/api2/json/admin/sync", { headers: b.headers });
  t.like(listed.json.data[0], { id: "from-a", remote: "site-a", store: STORE });

  // first sync: everything
  const first = await runJob(b, "from-a");
  t.is(first.status, "OK", first.log.join("\n"));
  const onA = await finishedSnapshots(a.store);
  const onB = await finishedSnapshots(b.store);
  t.deepEqual(onB.map(show), onA.map(show));
  t.is(onB.length, 5);
  const chunksOfA = await chunkSet(a.store);
  t.is(downloadedCount(first.log), chunksOfA.size, "each chunk crossed the wire once");
  t.deepEqual([...(await chunkSet(b.store))].sort(), [...chunksOfA].sort());
  const verifier = new Verifier();
  for (const ref of onB) {
    const result = await verifySnapshot(b.store, ref, { verifier });
    t.is(result.state, "ok", `${show(ref)}: ${result.problems.map((p) => p.message).join("; ")}`);
    // every file byte for byte, the manifest as A holds it (verify state aside)
    const filesA = await snapshotFiles(a.store, ref);
    const filesB = await snapshotFiles(b.store, ref);
    t.deepEqual([...filesB.keys()], [...filesA.keys()]);
    for (const [name, bytes] of filesA) {
      if (name !== "index.json.blob")
        t.true(filesB.get(name)!.equals(bytes), `${show(ref)} ${name}`);
    }
  }
  t.is(await b.store.getOwner([], "vm", "100"), "root@pam");
  // restores from B give A's data
  const refB = onB.find((ref) => ref.type === "ct")!;
  const readerA = await a.store.openReader(refB);
  const readerB = await b.store.openReader(refB);
  t.teardown(() => {
    readerA.close();
    readerB.close();
  });
  const sourceOf = (reader: typeof readerA) => ({
    file: (name: string) => reader.readFile(name),
    chunk: (digest: string) => reader.readChunk(digest),
  });
  for (const name of ["disk.img.fidx", "root.pxar.didx"]) {
    const fromB = await restoreArchive(sourceOf(readerB), readerB.manifest, name);
    t.true(fromB.equals(await restoreArchive(sourceOf(readerA), readerA.manifest, name)), name);
  }
  readerA.close();
  readerB.close();

  // changed data on A: only the chunks A did not have before cross the wire
  const before = await chunkSet(a.store);
  await backup(
    a,
    { type: "vm", id: "100", time: T0 + 7200 },
    sampleContent("vm100-changed", MiB, [300_000, 500_000]),
  );
  const added = [...(await chunkSet(a.store))].filter((digest) => !before.has(digest));
  t.true(added.length > 0);
  const second = await runJob(b, "from-a");
  t.is(second.status, "OK", second.log.join("\n"));
  t.is(downloadedCount(second.log), added.length);
  t.regex(second.log.join("\n"), /synced 1 snapshot\(s\)/);

  // interrupted after two chunks: nothing visible; the resumed run fetches only the rest
  const beforeCt = await chunkSet(a.store);
  await backup(a, { type: "ct", id: "200", time: T0 + 3600 }, sampleContent("ct200-new", MiB));
  const addedCt = [...(await chunkSet(a.store))].filter((digest) => !beforeCt.has(digest));
  t.true(addedCt.length > 2);
  const endpoint = await remoteEndpoint(b.jobs.remotes, "site-a");
  const options = { owner: "root@pam", concurrency: 1 };
  const broken = countingSource(await remoteSyncSource(endpoint, STORE), 2);
  const interrupted = await pullSync(b.store, broken.source, options);
  t.is(interrupted.errors.length, 1);
  t.regex(interrupted.errors[0]!, /ct\/200.*connection lost/);
  t.is(broken.fetched.length, 2);
  t.false(
    (await b.store.listSnapshots([], { type: "ct", id: "200" })).some(
      (info) => info.time === T0 + 3600,
    ),
    "the interrupted snapshot is not there",
  );
  const counted = countingSource(await remoteSyncSource(endpoint, STORE));
  const resumed = await pullSync(b.store, counted.source, options);
  t.deepEqual(resumed.errors, []);
  t.is(resumed.snapshots, 1);
  t.is(counted.fetched.length, addedCt.length - 2);
  t.deepEqual(
    counted.fetched.filter((digest) => broken.fetched.includes(digest)),
    [],
    "chunks fetched before the interruption are not fetched again",
  );
  const resumedRef = { ns: [], type: "ct" as const, id: "200", time: T0 + 3600 };
  t.is((await verifySnapshot(b.store, resumedRef, { verifier: new Verifier() })).state, "ok");

  // prune on A; B keeps its protected copy of a vanished snapshot
  await b.store.setProtected({ ns: [], type: "vm", id: "100", time: T0 }, true);
  await a.store.prune([], "vm", "100", { keepLast: 1 });
  await a.store.deleteGroup([], "host", "web");
  const third = await runJob(b, "from-a");
  t.is(third.status, "OK", third.log.join("\n"));
  const times = (await b.store.listSnapshots([], { type: "vm", id: "100" })).map((s) => s.time);
  t.deepEqual(times, [T0, T0 + 7200]);
  t.false(await b.store.groupExists([], "host", "web"));
  t.regex(third.log.join("\n"), /kept vanished snapshot vm\/100\/.* it is protected/);
  t.regex(third.log.join("\n"), /removed vanished: 2 snapshot\(s\), 1 group\(s\)/);
});

test("group filters and transfer-last choose what a sync copies", async (t) => {
  const [a, b] = await Promise.all([startSite(t, "fa"), startSite(t, "fb")]);
  await backup(a, { type: "vm", id: "100", time: T0 }, sampleContent("x", MiB, [1000]));
  await backup(a, { type: "vm", id: "100", time: T0 + 60 }, sampleContent("x", MiB, [1000]));
  await backup(a, { type: "vm", id: "100", time: T0 + 120 }, sampleContent("y", MiB, [1000]));
  await backup(a, { type: "vm", id: "101", time: T0 }, sampleContent("z", MiB, [1000]));
  await backup(a, { type: "ct", id: "200", time: T0 }, sampleContent("w", MiB, [1000]));
  const source = await remoteSyncSource(
    {
      name: "a",
      host: "127.0.0.1",
      port: a.port,
      authId: a.tokenId,
      secret: a.secret,
      fingerprint: a.fingerprint,
    },
    STORE,
  );
  const stats = await pullSync(b.store, source, {
    owner: "sync@pbs",
    groupFilter: ["type:vm", "exclude:group:vm/101"].map(parseGroupFilter),
    transferLast: 2,
  });
  t.deepEqual(stats.errors, []);
  t.deepEqual((await finishedSnapshots(b.store)).map(show), [
    `vm/100/${T0 + 60}`,
    `vm/100/${T0 + 120}`,
  ]);
  t.is(await b.store.getOwner([], "vm", "100"), "sync@pbs");
  // a group owned by someone else is refused, the others go on
  await backup(a, { type: "vm", id: "100", time: T0 + 180 }, sampleContent("v", MiB, [1000]));
  const other = await pullSync(b.store, source, { owner: "other@pbs" });
  t.is(other.errors.length, 1);
  t.regex(other.errors[0]!, /vm\/100.*belongs to sync@pbs/);
  t.deepEqual((await finishedSnapshots(b.store)).map(show), [
    `ct/200/${T0}`,
    `vm/100/${T0 + 60}`,
    `vm/100/${T0 + 120}`,
    `vm/101/${T0}`,
  ]);
});
