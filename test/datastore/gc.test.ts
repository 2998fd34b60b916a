import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { open, rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import test, { type ExecutionContext } from "ava";
import { ChunkStore } from "../../appliance/datastore/chunk-store.js";
import {
  checkAtimeUpdates,
  DigestCache,
  garbageCollect,
  sweepCutoff,
} from "../../appliance/datastore/gc.js";
import { LockDirectory } from "../../appliance/datastore/locks.js";
import { WriterRegistry } from "../../appliance/datastore/writer-registry.js";
import { decodeChunk, encodeChunk } from "../../appliance/format/chunk.js";
import { DynamicIndexReader, DynamicIndexWriter } from "../../appliance/format/dynamic-index.js";
import { FixedIndexWriter } from "../../appliance/format/fixed-index.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

function moduleUrl(relative: string): string {
  return pathToFileURL(fileURLToPath(new URL(relative, import.meta.url))).href;
}

async function tempStore(t: ExecutionContext): Promise<ChunkStore> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-gc-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return ChunkStore.create(dir, { preallocate: false });
}

/** Inserts a chunk made from `seed` and returns its digest. */
async function insertChunk(store: ChunkStore, seed: string, size = 4000): Promise<string> {
  const { digest, encoded } = encodeChunk(pseudoRandomBuffer(size, seed));
  const hex = digest.toString("hex");
  await store.insert(hex, encoded);
  return hex;
}

function age(store: ChunkStore, digest: string, ms: number, suffix = ""): void {
  const when = (Date.now() - ms) / 1000;
  utimesSync(store.pathOf(digest) + suffix, when, when);
}

function sizeOf(store: ChunkStore, digest: string, suffix = ""): number {
  return statSync(store.pathOf(digest) + suffix).size;
}

/** Writes `<snapshot>/<name>` as a dynamic index of 1000-byte chunks the way a backup does. */
async function writeDynamicIndex(root: string, snapshot: string, name: string, digests: string[]) {
  const dir = join(root, snapshot);
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `${name}.tmp_didx`);
  const file = await open(temp, "w");
  const writer = await DynamicIndexWriter.create(file);
  for (const [i, digest] of digests.entries())
    await writer.append((i + 1) * 1000, Buffer.from(digest, "hex"));
  await writer.close();
  await file.close();
  await rename(temp, join(dir, name));
}

/** A node child running `code` with tsx loaded; `line()` resolves its next stdout line. */
function spawnModule(code: string): { child: ChildProcess; line: () => Promise<string> } {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    line: async () => {
      const next = await lines.next();
      if (next.done) throw new Error("child closed its output");
      return next.value;
    },
  };
}

test("GC removes unreferenced old chunks, keeps referenced and recent ones, and records its status", async (t) => {
  const store = await tempStore(t);
  const referenced = await insertChunk(store, "referenced");
  const inNamespace = await insertChunk(store, "in-namespace");
  const inFixed = await insertChunk(store, "in-fixed");
  const garbage = await insertChunk(store, "garbage");
  const onlyInTempIndex = await insertChunk(store, "only-in-temp-index");
  const recent = await insertChunk(store, "recent");
  const badGarbage = await insertChunk(store, "bad-garbage");
  await store.markBad(badGarbage);
  for (const digest of [referenced, inNamespace, inFixed, garbage, onlyInTempIndex])
    age(store, digest, 3 * DAY_MS);
  age(store, badGarbage, 3 * DAY_MS, ".0.bad");
  age(store, recent, 2 * HOUR_MS);

  await writeDynamicIndex(store.root, "host/a/2024-05-01T10:00:00Z", "root.pxar.didx", [
    referenced,
    referenced,
  ]);
  await writeDynamicIndex(
    store.root,
    "ns/prod/ns/db/ct/100/2024-05-01T10:00:00Z",
    "root.pxar.didx",
    [inNamespace],
  );
  const fixedDir = join(store.root, "vm/200/2024-05-01T10:00:00Z");
  mkdirSync(fixedDir, { recursive: true });
  const fixedFile = await open(join(fixedDir, "drive-scsi0.img.fidx"), "w");
  const fixed = await FixedIndexWriter.create(fixedFile, { size: 6000, chunkSize: 4096 });
  await fixed.append(Buffer.from(inFixed, "hex"));
  await fixed.append(Buffer.from(referenced, "hex"));
  await fixed.close();
  await fixedFile.close();
  await writeDynamicIndex(store.root, "host/a/2024-05-01T11:00:00Z", "x.didx.tmp_didx", [
    onlyInTempIndex,
  ]);

  const phases = new Set<string>();
  const status = await garbageCollect(store, {
    onProgress: (phase, percent) => phases.add(`${phase}:${percent}`),
  });

  t.true(await store.exists(referenced));
  t.true(await store.exists(inNamespace));
  t.true(await store.exists(inFixed));
  t.true(await store.exists(recent), "younger than the cutoff");
  t.false(await store.exists(garbage));
  t.false(await store.exists(onlyInTempIndex), "unfinished temp indexes are not marked");
  t.false(existsSync(`${store.pathOf(badGarbage)}.0.bad`));
  t.true(
    (await store.stat(referenced))!.atimeMs > Date.now() - MINUTE_MS,
    "marked chunks are touched",
  );
  t.true((await store.stat(referenced))!.mtimeMs < Date.now() - DAY_MS, "their mtime is kept");

  const inUse = [referenced, inNamespace, inFixed].map((d) => sizeOf(store, d));
  t.deepEqual(status, {
    "index-file-count": 3,
    "index-data-bytes": 2000 + 1000 + 6000,
    "disk-bytes": inUse.reduce((a, b) => a + b),
    "disk-chunks": 3,
    "removed-bytes": status["removed-bytes"],
    "removed-chunks": 2,
    "pending-bytes": sizeOf(store, recent),
    "pending-chunks": 1,
    "removed-bad": 1,
    "still-bad": 0,
    "missing-chunks": 0,
    "deduplication-factor": 9000 / inUse.reduce((a, b) => a + b),
  });
  t.true(status["removed-bytes"] > 3 * 4000, "three files of random 4000-byte chunks");
  t.deepEqual(JSON.parse(readFileSync(join(store.root, ".gc-status"), "utf8")), status);
  t.true(phases.has("mark:100") && phases.has("sweep:0") && phases.has("sweep:100"));
});

test("a referenced chunk that is missing is reported and its .bad copies are kept", async (t) => {
  const store = await tempStore(t);
  const corrupt = await insertChunk(store, "corrupt");
  await store.markBad(corrupt);
  age(store, corrupt, 3 * DAY_MS, ".0.bad");
  await writeDynamicIndex(store.root, "host/a/2024-05-01T10:00:00Z", "root.pxar.didx", [corrupt]);

  const warnings: string[] = [];
  const status = await garbageCollect(store.root, {
    onLog: (level, message) => level === "warn" && warnings.push(message),
  });
  t.is(status["missing-chunks"], 1);
  t.is(status["still-bad"], 1);
  t.is(status["removed-bad"], 0);
  t.true(existsSync(`${store.pathOf(corrupt)}.0.bad`));
  t.true(
    warnings.some(
      (w) => w.includes(corrupt) && w.includes("host/a/2024-05-01T10:00:00Z/root.pxar.didx"),
    ),
  );
});

test("a second GC on the same datastore is refused while one runs", async (t) => {
  const store = await tempStore(t);
  const held = await new LockDirectory(join(store.root, ".locks")).acquire("gc", "exclusive");
  await t.throwsAsync(() => garbageCollect(store), { code: "CAIRN_E_DATASTORE_LOCK_BUSY" });
  held.release();
  const results = await Promise.allSettled([garbageCollect(store), garbageCollect(store)]);
  t.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
});

test("a live writer in another process holds back the cutoff; a dead writer's entry is ignored", async (t) => {
  const store = await tempStore(t);
  const sinceWriterStart = await insertChunk(store, "since-writer-start");
  const justBeforeWriter = await insertChunk(store, "just-before-writer");
  age(store, sinceWriterStart, 2 * HOUR_MS);
  age(store, justBeforeWriter, 3 * HOUR_MS + 2 * MINUTE_MS);
  const { child, line } = spawnModule(`
    const { WriterRegistry } = await import(${JSON.stringify(moduleUrl("../../appliance/datastore/writer-registry.ts"))});
    new WriterRegistry(${JSON.stringify(store.root)}).register(Date.now() - 3 * 3600 * 1000);
    console.log("registered");
    setInterval(() => {}, 1000);
  `);
  t.teardown(() => child.kill("SIGKILL"));
  t.is(await line(), "registered");

  const held = await garbageCollect(store, { atimeCutoffMinutes: 0 });
  t.true(await store.exists(sinceWriterStart), "touched after the writer started: it may need it");
  t.true(await store.exists(justBeforeWriter), "within the 5-minute margin before the writer");
  t.like(held, { "removed-chunks": 0, "pending-chunks": 1, "disk-chunks": 1 });
  t.is(readdirSync(join(store.root, ".writers")).length, 1);

  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
  const freed = await garbageCollect(store, { atimeCutoffMinutes: 0 });
  t.false(await store.exists(sinceWriterStart));
  t.false(await store.exists(justBeforeWriter));
  t.is(freed["removed-chunks"], 2);
  t.deepEqual(readdirSync(join(store.root, ".writers")), [], "the dead writer's entry is deleted");
});

test("the writer registry reports the oldest live writer within one process", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-writers-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const registry = new WriterRegistry(dir);
  t.is(registry.oldestActive(), undefined);
  const first = registry.register(1_000);
  const second = registry.register(2_000);
  t.is(registry.oldestActive(), 1_000);
  first.release();
  first.release();
  t.is(registry.oldestActive(), 2_000);
  writeFileSync(join(dir, ".writers", "4242-deadbeef"), "500\n"); // a crashed writer: unlocked
  t.is(registry.oldestActive(), 2_000);
  t.deepEqual(readdirSync(join(dir, ".writers")), [second.path.split("/").pop()]);
  second.release();
  t.is(registry.oldestActive(), undefined);
});

test("GC cleans up after interrupted inserts and sweeps", async (t) => {
  const store = await tempStore(t);
  const kept = await insertChunk(store, "kept");
  const path = store.pathOf(kept);
  const staleTemp = `${path}.tmp_0123456789ab`;
  const freshTemp = `${path}.tmp_ba9876543210`;
  writeFileSync(staleTemp, "partial");
  writeFileSync(freshTemp, "partial");
  const old = (Date.now() - 3 * DAY_MS) / 1000;
  utimesSync(staleTemp, old, old);
  const asideDigest = await insertChunk(store, "aside");
  renameSync(store.pathOf(asideDigest), `${store.pathOf(asideDigest)}.sweeping`);

  await garbageCollect(store);
  t.false(existsSync(staleTemp));
  t.true(existsSync(freshTemp), "may belong to an insert in progress");
  t.true(await store.exists(asideDigest), "moved back for the next GC to judge");
  t.false(existsSync(`${store.pathOf(asideDigest)}.sweeping`));
});

test("the atime check passes here, and refuses a clock the filesystem cannot store", async (t) => {
  const store = await tempStore(t);
  t.notThrows(() => checkAtimeUpdates(store, Date.now()));
  // ext4 clamps times beyond 2446; a filesystem that stores them cannot fail this way
  const farFuture = Date.UTC(3000, 0, 1);
  const probe = join(store.chunkDir, "year-3000");
  writeFileSync(probe, "");
  utimesSync(probe, farFuture / 1000, farFuture / 1000);
  const stored = statSync(probe).atimeMs;
  rmSync(probe);
  if (Math.abs(stored - farFuture) < 2000) {
    t.log("this filesystem stores year-3000 times; the refusal path is not reachable here");
    return;
  }
  await t.throwsAsync(() => garbageCollect(store, { now: () => farFuture }), {
    code: "CAIRN_E_DATASTORE_ATIME_UNSUPPORTED",
  });
  t.false(existsSync(join(store.root, ".gc-status")));
});

test("GC stops when aborted, leaving every chunk either present and valid or removed", async (t) => {
  const store = await tempStore(t);
  const digests: string[] = [];
  for (let i = 0; i < 1500; i++) digests.push(await insertChunk(store, `abort-${i}`, 200));
  for (const digest of digests) age(store, digest, 3 * DAY_MS);
  await writeDynamicIndex(
    store.root,
    "host/a/2024-05-01T10:00:00Z",
    "a.didx",
    digests.slice(0, 10),
  );

  const duringMark = new AbortController();
  await t.throwsAsync(
    () =>
      garbageCollect(store, {
        signal: duringMark.signal,
        onProgress: (phase) => phase === "mark" && duringMark.abort(),
      }),
    { code: "CAIRN_E_DATASTORE_ABORTED", message: /during mark/ },
  );
  t.is(readdirSync(store.chunkDir).length > 0, true);
  let present = 0;
  for (const digest of digests) if (await store.exists(digest)) present++;
  t.is(present, 1500, "nothing removed before sweep");

  const duringSweep = new AbortController();
  await t.throwsAsync(
    () =>
      garbageCollect(store, {
        signal: duringSweep.signal,
        onProgress: (phase, percent) => phase === "sweep" && percent >= 50 && duringSweep.abort(),
      }),
    { code: "CAIRN_E_DATASTORE_ABORTED", message: /during sweep/ },
  );
  present = 0;
  for (const digest of digests) {
    if (!(await store.exists(digest))) continue;
    present++;
    decodeChunk(await store.read(digest), Buffer.from(digest, "hex"));
  }
  t.true(present > 10 && present < 1500, `partly swept: ${present} left`);
  t.false(existsSync(join(store.root, ".gc-status")), "no status for an aborted run");
  const files = [];
  for await (const file of store.chunkFiles({ includeLeftovers: true })) files.push(file);
  t.is(files.filter((f) => f.leftover).length, 0);
});

test("the sweep cutoff: atime cutoff, or the oldest writer's start less 5 minutes, less 2 s of slack", async (t) => {
  const start = Date.UTC(2024, 4, 1);
  t.is(sweepCutoff(start, undefined), start - (24 * 60 + 5) * MINUTE_MS - 2000);
  t.is(sweepCutoff(start, undefined, 0), start - 2000);
  t.is(sweepCutoff(start, start - HOUR_MS, 0), start - HOUR_MS - 5 * MINUTE_MS - 2000);
  t.is(
    sweepCutoff(start, start - HOUR_MS),
    start - (24 * 60 + 5) * MINUTE_MS - 2000,
    "an hour-old writer changes nothing",
  );
  t.is(sweepCutoff(start, start - 2 * DAY_MS), start - 2 * DAY_MS - 5 * MINUTE_MS - 2000);
  const store = await tempStore(t);
  await t.throwsAsync(() => garbageCollect(store, { atimeCutoffMinutes: -1 }), {
    code: "CAIRN_E_DATASTORE_BAD_GC_OPTIONS",
  });
  await t.throwsAsync(() => garbageCollect(store, { cacheCapacity: 0.5 }), {
    code: "CAIRN_E_DATASTORE_BAD_GC_OPTIONS",
  });
});

test("the digest cache remembers what it saw within its capacity", (t) => {
  const cache = new DigestCache(4);
  const digests = Array.from({ length: 3 }, (_, i) => encodeChunk(Buffer.from([i + 1])).digest);
  t.false(cache.seen(digests[0]!));
  t.true(cache.seen(digests[0]!));
  t.false(cache.seen(Buffer.alloc(32)), "an all-zero digest is not mistaken for an empty slot");
  t.true(cache.seen(Buffer.alloc(32)));
  t.throws(() => new DigestCache(0), { code: "CAIRN_E_DATASTORE_BAD_GC_OPTIONS" });
});

/**
 * Writers in other processes publish snapshots (chunks, then a .didx, then a manifest marker),
 * reusing chunks of a pool that has aged past any cutoff, while GC runs back to back with a
 * 0-minute cutoff. Every published index must still find all its chunks.
 */
test.serial(
  "GC under concurrent backups never removes a chunk a published index needs",
  async (t) => {
    const store = await tempStore(t);
    const POOL = 1500;
    const GC_RUNS = 4;
    const stopFile = join(store.root, ".stop-writers");
    for (let i = 0; i < POOL; i++) {
      const digest = await insertChunk(store, `pool-${i}`, 512);
      age(store, digest, 2 * DAY_MS);
    }
    const writerCode = (id: number) => `
    const { ChunkStore } = await import(${JSON.stringify(moduleUrl("../../appliance/datastore/chunk-store.ts"))});
    const { WriterRegistry } = await import(${JSON.stringify(moduleUrl("../../appliance/datastore/writer-registry.ts"))});
    const { encodeChunk } = await import(${JSON.stringify(moduleUrl("../../appliance/format/chunk.ts"))});
    const { DynamicIndexWriter } = await import(${JSON.stringify(moduleUrl("../../appliance/format/dynamic-index.ts"))});
    const { pseudoRandomBuffer } = await import(${JSON.stringify(moduleUrl("../helpers/generators.ts"))});
    const { existsSync, mkdirSync, writeFileSync } = await import("node:fs");
    const { open, rename } = await import("node:fs/promises");
    const { randomBytes, randomInt } = await import("node:crypto");
    const { setTimeout: sleep } = await import("node:timers/promises");
    const root = ${JSON.stringify(store.root)};
    const store = await ChunkStore.open(root);
    const registry = new WriterRegistry(root);
    let snapshots = 0, reused = 0;
    console.log("started");
    while (!existsSync(${JSON.stringify(stopFile)})) {
      const writer = registry.register();
      const digests = [];
      for (let i = 0; i < 40; i++) {
        const data = i % 2 ? randomBytes(512) : pseudoRandomBuffer(512, "pool-" + randomInt(${POOL}));
        const { digest, encoded } = encodeChunk(data);
        const result = await store.insert(digest.toString("hex"), encoded);
        if (result.duplicate) reused++;
        digests.push(digest);
        await sleep(75); // a backup longer than GC's clock slack: only the registry protects it
      }
      const dir = root + "/host/w${id}/" + new Date(Date.UTC(2024, 0, 1) + snapshots * 1000).toISOString().slice(0, 19) + "Z";
      mkdirSync(dir, { recursive: true });
      const file = await open(dir + "/data.didx.tmp_didx", "w");
      const index = await DynamicIndexWriter.create(file);
      for (const [i, digest] of digests.entries()) await index.append((i + 1) * 512, digest);
      await index.close();
      await file.close();
      await rename(dir + "/data.didx.tmp_didx", dir + "/data.didx");
      writeFileSync(dir + "/index.json.blob", "finished");
      writer.release();
      snapshots++;
    }
    console.log(JSON.stringify({ snapshots, reused }));
  `;
    const writers = [1, 2, 3].map((id) => spawnModule(writerCode(id)));
    t.teardown(() => {
      for (const w of writers) w.child.kill("SIGKILL");
    });
    for (const w of writers) t.is(await w.line(), "started");
    const reports = Promise.all(writers.map(async (w) => JSON.parse(await w.line())));

    const finishedSnapshots = () =>
      [1, 2, 3].filter((id) => {
        const dir = join(store.root, "host", `w${id}`);
        return (
          existsSync(dir) &&
          readdirSync(dir).some((s) => existsSync(join(dir, s, "index.json.blob")))
        );
      }).length;
    let removed = 0;
    for (let run = 0; run < GC_RUNS || finishedSnapshots() < 3; run++) {
      removed += (await garbageCollect(store, { atimeCutoffMinutes: 0 }))["removed-chunks"];
    }
    writeFileSync(stopFile, "");
    const summary = await reports;
    t.log(`removed: ${removed}, writers: ${JSON.stringify(summary)}`);
    t.true(removed > 0, "GC removed the pool chunks nobody reused");
    t.true(summary.every((s) => s.snapshots > 0 && s.reused > 0));

    let checked = 0;
    for (const id of [1, 2, 3]) {
      const groupDir = join(store.root, "host", `w${id}`);
      for (const snapshot of readdirSync(groupDir)) {
        if (!existsSync(join(groupDir, snapshot, "index.json.blob"))) continue;
        const index = DynamicIndexReader.parse(readFileSync(join(groupDir, snapshot, "data.didx")));
        for (let i = 0; i < index.count; i++) {
          const digest = index.digest(i);
          const encoded = await store.read(digest.toString("hex"));
          t.is(decodeChunk(encoded, digest).length, 512);
          checked++;
        }
      }
    }
    t.true(checked >= 40);
  },
);
