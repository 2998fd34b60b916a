import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import type { Datastore } from "../../appliance/datastore/datastore.js";
import { readManifestFile } from "../../appliance/datastore/manifest-file.js";
import { type SnapshotRef, showSnapshot } from "../../appliance/datastore/snapshots.js";
import { Verifier, verifySnapshot } from "../../appliance/datastore/verify.js";
import { archiveKind } from "../../appliance/format/manifest.js";
import { parseGroupFilter } from "../../appliance/jobs/group-filter.js";
import { pushSync } from "../../appliance/jobs/sync-push.js";
import { remotePushTarget } from "../../appliance/jobs/sync-push-target.js";
import { MiB, sampleContent } from "../protocol/fixtures/content.js";
import { parseIndexFile, restoreArchive } from "../protocol/fixtures/restore.js";
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
import { type Site, STORE, startSite } from "./fixtures/sync-sites.js";

/** The chunk digests of each index of a snapshot, by index name. */
async function indexDigests(store: Datastore, ref: SnapshotRef): Promise<Map<string, string[]>> {
  const dir = store.snapshotDir(ref);
  const found = new Map<string, string[]>();
  for (const file of (await readManifestFile(dir)).files) {
    const kind = archiveKind(file.filename);
    if (kind !== "fixed-index" && kind !== "dynamic-index") continue;
    const index = parseIndexFile(file.filename, await readFile(join(dir, file.filename)));
    found.set(
      file.filename,
      Array.from({ length: index.count }, (_, i) => index.digest(i).toString("hex")),
    );
  }
  return found;
}

/** Chunks a push of `ref` must upload: its own, less those of the same-named indexes of `previous`. */
async function newToSnapshot(store: Datastore, ref: SnapshotRef, previous?: SnapshotRef) {
  const current = await indexDigests(store, ref);
  const before = previous ? await indexDigests(store, previous) : new Map<string, string[]>();
  const known = new Set([...before].filter(([name]) => current.has(name)).flatMap(([, d]) => d));
  return new Set([...current.values()].flat().filter((digest) => !known.has(digest)));
}

function uploadedCount(log: string[]): number {
  const match = log.map((line) => /(\d+) chunk\(s\) uploaded \(/.exec(line)).find(Boolean);
  if (!match) throw new Error(`no summary in the log:\n${log.join("\n")}`);
  return Number(match[1]);
}

async function addRemote(from: Site, name: string, to: Site) {
  const answer = await api(from.port, "POST", "/api2/json/config/remote", {
    headers: from.headers,
    body: {
      name,
      host: "127.0.0.1",
      port: to.port,
      "auth-id": to.tokenId,
      password: to.secret,
      fingerprint: to.fingerprint,
    },
  });
  if (answer.status !== 200) throw new Error(`remote: ${answer.status} ${answer.body}`);
}

test("push sync from A to B: verified byte-identical copies, known chunks reused, remove-vanished", async (t) => {
  const [a, b] = await Promise.all([startSite(t, "pa"), startSite(t, "pb")]);
  const vm100 = sampleContent("vm100", MiB);
  await backup(a, { type: "vm", id: "100", time: T0 }, vm100);
  await backup(a, { type: "vm", id: "100", time: T0 + 3600 }, vm100);
  await backup(a, { type: "ct", id: "200", time: T0 }, sampleContent("ct200", MiB));
  await backup(a, { type: "host", id: "web", time: T0 }, sampleContent("web", MiB, [40_000]));
  await encryptedBackup(a.store, { type: "host", id: "secret", time: T0 }, a.tokenId);
  await addRemote(a, "site-b", b);

  const badDirection = await api(a.port, "POST", "/api2/json/config/sync", {
    headers: a.headers,
    body: {
      id: "odd",
      store: STORE,
      remote: "site-b",
      "remote-store": STORE,
      "sync-direction": "sideways",
    },
  });
  t.is(badDirection.status, 400);
  t.regex(badDirection.body.toString(), /sync-direction/);
  const noRemote = await api(a.port, "POST", "/api2/json/config/sync", {
    headers: a.headers,
    body: { id: "nowhere", store: STORE, "remote-store": "store2", "sync-direction": "push" },
  });
  t.is(noRemote.status, 400);
  t.regex(noRemote.body.toString(), /remote/);

  const job = await api(a.port, "POST", "/api2/json/config/sync", {
    headers: a.headers,
    body: {
      id: "to-b",
      "sync-direction": "push",
      store: STORE,
      remote: "site-b",
      "remote-store": STORE,
      "remove-vanished": true,
    },
  });
  t.is(job.status, 200, job.body.toString());

  // first push: every snapshot; a chunk crosses once per group unless its previous snapshot has it
  const first = await runJob(a, "to-b");
  t.is(first.status, "OK", first.log.join("\n"));
  const onA = await finishedSnapshots(a.store);
  const onB = await finishedSnapshots(b.store);
  t.deepEqual(onB.map(show), onA.map(show));
  t.is(onB.length, 5);
  let expected = 0;
  for (const [i, ref] of onA.entries()) {
    const previous = onA[i - 1];
    const sameGroup = previous && previous.type === ref.type && previous.id === ref.id;
    expected += (await newToSnapshot(a.store, ref, sameGroup ? previous : undefined)).size;
  }
  t.is(uploadedCount(first.log), expected);
  const unchanged = showSnapshot({ ns: [], type: "vm", id: "100", time: T0 + 3600 });
  t.true(
    first.log.some((line) =>
      line.endsWith(`pushed ${unchanged}: 0 chunk(s) uploaded, 4 known to the remote`),
    ),
    first.log.join("\n"),
  );
  t.deepEqual([...(await chunkSet(b.store))].sort(), [...(await chunkSet(a.store))].sort());
  for (const ref of onB) {
    const result = await verifySnapshot(b.store, ref, { verifier: new Verifier() });
    t.is(result.state, "ok", `${show(ref)}: ${result.problems.map((p) => p.message).join("; ")}`);
    const dirA = a.store.snapshotDir(ref);
    const dirB = b.store.snapshotDir(ref);
    t.deepEqual((await readdir(dirB)).sort(), (await readdir(dirA)).sort());
    for (const name of await readdir(dirA)) {
      if (name === "index.json.blob" || name.endsWith(".lck")) continue;
      const bytesA = await readFile(join(dirA, name));
      const bytesB = await readFile(join(dirB, name));
      if (name.endsWith("idx")) {
        // a rebuilt index has the remote's own uuid and ctime; chunks, ranges and csum are A's
        const [indexA, indexB] = [parseIndexFile(name, bytesA), parseIndexFile(name, bytesB)];
        t.deepEqual(indexB.computeCsum(), indexA.computeCsum(), `${show(ref)} ${name}`);
        t.true(indexB.csum.equals(indexA.csum));
      } else {
        t.true(bytesB.equals(bytesA), `${show(ref)} ${name}`);
      }
    }
    // the manifest as A holds it; B adds only its own upload stats and verify state
    const withoutStats = ({
      unprotected,
      ...rest
    }: Awaited<ReturnType<typeof readManifestFile>>) => {
      const { chunk_upload_stats: _stats, verify_state: _verified, ...kept } = unprotected;
      return { ...rest, unprotected: kept };
    };
    t.deepEqual(
      withoutStats(await readManifestFile(dirB)),
      withoutStats(await readManifestFile(dirA)),
    );
  }
  t.is(
    await b.store.getOwner([], "vm", "100"),
    b.tokenId,
    "the remote's auth id owns pushed groups",
  );
  // the encrypted chunks are stored on B exactly as on A
  const secret = onA.find((ref) => ref.id === "secret")!;
  for (const digest of (await indexDigests(a.store, secret)).get("secret.pxar.didx")!) {
    const readerA = await a.store.openReader(secret);
    const readerB = await b.store.openReader(secret);
    t.true((await readerB.readChunk(digest)).equals(await readerA.readChunk(digest)));
    readerA.close();
    readerB.close();
  }
  // restores from B give A's data
  const ct = onB.find((ref) => ref.type === "ct")!;
  const readerA = await a.store.openReader(ct);
  const readerB = await b.store.openReader(ct);
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

  // a new snapshot on A with the same image and a new archive: only the archive's chunks go
  const changed = sampleContent("vm100-changed", MiB, [300_000, 500_000]);
  await backup(
    a,
    { type: "vm", id: "100", time: T0 + 7200 },
    { ...vm100, ...changed, image: vm100.image },
  );
  const newRef = { ns: [], type: "vm" as const, id: "100", time: T0 + 7200 };
  const fresh = await newToSnapshot(a.store, newRef, { ...newRef, time: T0 + 3600 });
  t.is(fresh.size, 2, "the two archive chunks are new");
  const second = await runJob(a, "to-b");
  t.is(second.status, "OK", second.log.join("\n"));
  t.is(uploadedCount(second.log), 2);
  t.regex(
    second.log.join("\n"),
    /pushed 1 snapshot\(s\): 2 chunk\(s\) uploaded .*, 1 known to the remote/,
  );
  t.is((await verifySnapshot(b.store, newRef, { verifier: new Verifier() })).state, "ok");
  const pushedIndexes = await indexDigests(b.store, newRef);
  t.deepEqual(pushedIndexes, await indexDigests(a.store, newRef));

  // prune on A: B removes the vanished snapshots and group but keeps its protected copy
  await b.store.setProtected({ ns: [], type: "vm", id: "100", time: T0 }, true);
  await a.store.prune([], "vm", "100", { keepLast: 1 });
  await a.store.deleteGroup([], "host", "web");
  const third = await runJob(a, "to-b");
  t.is(third.status, "OK", third.log.join("\n"));
  const times = (await b.store.listSnapshots([], { type: "vm", id: "100" })).map((s) => s.time);
  t.deepEqual(times, [T0, T0 + 7200]);
  t.false(await b.store.groupExists([], "host", "web"));
  t.true(await b.store.groupExists([], "ct", "200"));
  t.regex(third.log.join("\n"), /kept vanished remote snapshot vm\/100\/.* it is protected/);
  t.regex(third.log.join("\n"), /removed vanished on the remote: 2 snapshot\(s\), 1 group\(s\)/);
  t.is(uploadedCount(third.log), 0);
});

test("push sync honours group filters, transfer-last and namespaces", async (t) => {
  const [a, b] = await Promise.all([startSite(t, "pfa"), startSite(t, "pfb")]);
  await backup(a, { type: "vm", id: "100", time: T0 }, sampleContent("x", MiB, [1000]));
  await backup(a, { type: "vm", id: "100", time: T0 + 60 }, sampleContent("x", MiB, [1000]));
  await backup(a, { type: "vm", id: "100", time: T0 + 120 }, sampleContent("y", MiB, [1000]));
  await backup(a, { type: "vm", id: "101", time: T0 }, sampleContent("z", MiB, [1000]));
  await backup(a, { type: "ct", id: "200", time: T0 }, sampleContent("w", MiB, [1000]));
  await b.store.createNamespace(["offsite"]);
  const endpoint = {
    name: "b",
    host: "127.0.0.1",
    port: b.port,
    authId: b.tokenId,
    secret: b.secret,
    fingerprint: b.fingerprint,
  };
  const stats = await pushSync(a.store, await remotePushTarget(endpoint, STORE), {
    remoteNs: ["offsite"],
    groupFilter: ["type:vm", "exclude:group:vm/101"].map(parseGroupFilter),
    transferLast: 2,
  });
  t.deepEqual(stats.errors, []);
  t.is(stats.snapshots, 2);
  const pushed = (await b.store.listSnapshots(["offsite"])).map(show);
  t.deepEqual(pushed, [`vm/100/${T0 + 60}`, `vm/100/${T0 + 120}`]);
  t.deepEqual(await b.store.listSnapshots([]), [], "nothing lands outside the target namespace");
});

test("a push job with rate-out uploads no faster than the rate allows", async (t) => {
  const [a, b] = await Promise.all([startSite(t, "pra"), startSite(t, "prb")]);
  await backup(a, { type: "vm", id: "100", time: T0 }, sampleContent("paced", MiB));
  await addRemote(a, "site-b", b);
  const rate = 256 * 1024;
  const burst = 32 * 1024;
  const created = await api(a.port, "POST", "/api2/json/config/sync", {
    headers: a.headers,
    body: {
      id: "paced",
      store: STORE,
      remote: "site-b",
      "remote-store": STORE,
      "sync-direction": "push",
      "rate-out": "256KiB",
      "burst-out": "32KiB",
    },
  });
  t.is(created.status, 200, created.body.toString());

  const started = performance.now();
  const { status, log } = await runJob(a, "paced");
  const elapsedMs = performance.now() - started;

  t.is(status, "OK", log.join("\n"));
  const bytes = Number(/uploaded \((\d+) bytes\)/.exec(log.join("\n"))![1]);
  t.true(bytes > 4 * burst, `${bytes} bytes uploaded`);
  // the bucket lets `burst` bytes through at once, then charges every byte at `rate`
  const floorMs = ((bytes - burst) / rate) * 1000;
  t.true(elapsedMs >= floorMs * 0.95, `${Math.round(elapsedMs)} ms for ${bytes} bytes`);
  t.deepEqual((await finishedSnapshots(b.store)).map(show), [`vm/100/${T0}`]);
});
