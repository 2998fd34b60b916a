import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { Datastore } from "../../appliance/datastore/datastore.js";
import {
  localUpid,
  needsVerify,
  parseUpidStartTime,
  Verifier,
  verifyDatastore,
  verifySnapshot,
} from "../../appliance/datastore/verify.js";
import { encodeChunk } from "../../appliance/format/chunk.js";
import { CryptConfig } from "../../appliance/format/crypt-config.js";
import { DynamicIndexReader } from "../../appliance/format/dynamic-index.js";
import { FixedIndexReader } from "../../appliance/format/fixed-index.js";
import { addManifestFile, type Manifest, newManifest } from "../../appliance/format/manifest.js";
import {
  type SampleBackup,
  sampleContent,
  writeSampleBackup,
  writeSampleFiles,
} from "./fixtures/sample-backup.js";

const T0 = 1_700_000_000;
const SNAPSHOT = "vm/100/2023-11-14T22:13:20Z";
const UPID = "UPID:pbs:000004D2:0000162E:00000001:6553F100:verify:store1:root@pam:";

async function tempDatastore(t: ExecutionContext): Promise<Datastore> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-verify-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return Datastore.create(join(dir, "store"), {
    name: "store1",
    syncLevel: "none",
    preallocate: false,
  });
}

function fixedDigests(datastore: Datastore, backup: SampleBackup): string[] {
  const index = FixedIndexReader.parse(
    readFileSync(join(datastore.snapshotDir(backup.ref), "disk.img.fidx")),
  );
  return Array.from({ length: index.count }, (_, i) => index.digest(i).toString("hex"));
}

async function verifyState(datastore: Datastore, backup: SampleBackup) {
  return (await datastore.readManifest(backup.ref)).unprotected.verify_state;
}

test("a sound snapshot verifies ok and records the run's UPID in the manifest", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const logs: string[] = [];
  const verifier = new Verifier({ upid: UPID, onLog: (_, line) => logs.push(line) });
  const result = await verifySnapshot(datastore, backup.ref, { verifier });
  t.is(result.state, "ok");
  t.is(result.snapshot, SNAPSHOT);
  t.deepEqual(result.problems, []);
  t.deepEqual(result.chunks, { checked: 7, cached: 0, errors: 0, missing: 0 });
  t.deepEqual(await verifyState(datastore, backup), { upid: UPID, state: "ok" });
  t.true(logs.includes(`verify ${SNAPSHOT}`));
  const manifest = await datastore.readManifest(backup.ref);
  t.deepEqual(manifest.files, backup.manifest.files);
  t.deepEqual(
    manifest.unprotected.chunk_upload_stats,
    backup.manifest.unprotected.chunk_upload_stats,
  );
});

test("a flipped bit in a chunk fails the snapshot, names snapshot, file and chunk, and renames it .0.bad", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const digest = fixedDigests(datastore, backup)[1]!;
  const path = datastore.chunks.pathOf(digest);
  const bytes = readFileSync(path);
  bytes[bytes.length - 3]! ^= 0x10;
  writeFileSync(path, bytes);

  const result = await verifySnapshot(datastore, backup.ref, {
    verifier: new Verifier({ upid: UPID }),
  });
  t.is(result.state, "failed");
  t.is(result.problems.length, 1);
  const [problem] = result.problems;
  t.like(problem, { snapshot: SNAPSHOT, file: "disk.img.fidx", digest });
  t.regex(
    problem!.message,
    new RegExp(
      `^${SNAPSHOT}/disk\\.img\\.fidx: chunk ${digest} is corrupt \\(.*CRC32 mismatch.*\\); renamed to ${digest}\\.0\\.bad$`,
    ),
  );
  t.false(existsSync(path));
  t.deepEqual(readFileSync(`${path}.0.bad`), bytes);
  t.deepEqual(await verifyState(datastore, backup), { upid: UPID, state: "failed" });
});

test("a truncated chunk fails and is renamed", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const digest = fixedDigests(datastore, backup)[0]!;
  truncateSync(datastore.chunks.pathOf(digest), 20);
  const result = await verifySnapshot(datastore, backup.ref, { verifier: new Verifier() });
  t.is(result.state, "failed");
  t.like(result.problems[0], { file: "disk.img.fidx", digest });
  t.regex(result.problems[0]!.message, /is corrupt/);
  t.true(existsSync(`${datastore.chunks.pathOf(digest)}.0.bad`));
});

test("a missing chunk is counted and named", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const digest = fixedDigests(datastore, backup)[2]!;
  unlinkSync(datastore.chunks.pathOf(digest));
  const result = await verifySnapshot(datastore, backup.ref, { verifier: new Verifier() });
  t.is(result.state, "failed");
  t.is(result.chunks.missing, 1);
  t.is(result.chunks.errors, 1);
  t.is(
    result.problems[0]!.message,
    `${SNAPSHOT}/disk.img.fidx: chunk ${digest} is missing from the chunk store`,
  );
});

test("a chunk holding other valid data fails its digest check", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const [first, second] = fixedDigests(datastore, backup);
  writeFileSync(datastore.chunks.pathOf(first!), readFileSync(datastore.chunks.pathOf(second!)));
  const result = await verifySnapshot(datastore, backup.ref, { verifier: new Verifier() });
  t.is(result.state, "failed");
  t.regex(
    result.problems[0]!.message,
    new RegExp(`chunk ${first} is corrupt \\(chunk digest mismatch`),
  );
});

test("a changed index fails on its checksum, and its chunks are not trusted from it", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const path = join(datastore.snapshotDir(backup.ref), "root.pxar.didx");
  const bytes = readFileSync(path);
  bytes[4096 + 40 + 8]! ^= 1; // a digest byte of the second entry
  writeFileSync(path, bytes);
  t.notThrows(() => DynamicIndexReader.parse(bytes), "still a well-formed index");

  const result = await verifySnapshot(datastore, backup.ref, { verifier: new Verifier() });
  t.is(result.state, "failed");
  t.is(result.problems.length, 1);
  t.like(result.problems[0], { snapshot: SNAPSHOT, file: "root.pxar.didx" });
  t.regex(
    result.problems[0]!.message,
    /root\.pxar\.didx: index checksum [0-9a-f]{64}, the manifest says/,
  );
});

test("a changed blob fails on its checksum", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  const path = join(datastore.snapshotDir(backup.ref), "qemu-server.conf.blob");
  const bytes = readFileSync(path);
  bytes[bytes.length - 1]! ^= 1;
  writeFileSync(path, bytes);
  const result = await verifySnapshot(datastore, backup.ref, { verifier: new Verifier() });
  t.is(result.state, "failed");
  t.regex(
    result.problems[0]!.message,
    /qemu-server\.conf\.blob: checksum [0-9a-f]{64}, the manifest says/,
  );
});

test("each chunk is checked once per run; a corrupt one is reported again but renamed once", async (t) => {
  const datastore = await tempDatastore(t);
  const first = await writeSampleBackup(datastore, { time: T0, seed: "shared" });
  const second = await writeSampleBackup(datastore, { time: T0 + 1, seed: "shared" });
  const verifier = new Verifier();
  t.is((await verifySnapshot(datastore, first.ref, { verifier })).chunks.checked, 7);
  t.deepEqual((await verifySnapshot(datastore, second.ref, { verifier })).chunks, {
    checked: 0,
    cached: 7,
    errors: 0,
    missing: 0,
  });

  const digest = fixedDigests(datastore, first)[0]!;
  truncateSync(datastore.chunks.pathOf(digest), 30);
  const run = new Verifier();
  t.is((await verifySnapshot(datastore, first.ref, { verifier: run })).state, "failed");
  const again = await verifySnapshot(datastore, second.ref, { verifier: run });
  t.is(again.state, "failed");
  t.regex(
    again.problems[0]!.message,
    new RegExp(`chunk ${digest} was found corrupt earlier in this run`),
  );
  t.true(existsSync(`${datastore.chunks.pathOf(digest)}.0.bad`));
  t.false(existsSync(`${datastore.chunks.pathOf(digest)}.1.bad`));
});

test("chunk crypt mode must match the file's; encrypted chunks are checked by CRC only", async (t) => {
  const datastore = await tempDatastore(t);
  const crypt = new CryptConfig(Buffer.alloc(32, 9));
  const writer = await datastore.beginBackup({
    type: "host",
    id: "h",
    time: T0,
    owner: "root@pam",
  });
  const index = await writer.createDynamicIndex("secret.pxar.didx");
  let end = 0;
  for (const seed of ["a", "b"]) {
    const data = Buffer.from(seed.repeat(500));
    const chunk = encodeChunk(data, { crypt });
    await writer.insertChunk(chunk.digest, chunk.encoded, data.length);
    end += data.length;
    await index.writer.append(end, chunk.digest);
  }
  const closed = await index.close();
  let manifest: Manifest = newManifest({ backupType: "host", backupId: "h", backupTime: T0 });
  manifest = addManifestFile(manifest, {
    filename: "secret.pxar.didx",
    cryptMode: "encrypt",
    ...closed,
  });
  const plain = await writeSampleFiles(writer, sampleContent("plain"));
  for (const file of plain.files) {
    // claim the plain image is encrypted: its chunks then have the wrong crypt mode
    const cryptMode = file.filename === "disk.img.fidx" ? "encrypt" : file.cryptMode;
    manifest = addManifestFile(manifest, { ...file, cryptMode });
  }
  await writer.finish(manifest);

  const result = await verifySnapshot(datastore, writer.ref, { verifier: new Verifier() });
  t.is(result.state, "failed");
  t.true(result.problems.length > 0);
  for (const problem of result.problems) {
    t.is(problem.file, "disk.img.fidx");
    t.regex(problem.message, /is not encrypted, but disk\.img\.fidx has crypt-mode encrypt$/);
    t.true(existsSync(datastore.chunks.pathOf(problem.digest!)), "a sound chunk is not renamed");
  }
});

test("unfinished snapshots are skipped: one being written, one left by a crash", async (t) => {
  const datastore = await tempDatastore(t);
  const writer = await datastore.beginBackup({ type: "vm", id: "1", time: T0, owner: "root@pam" });
  const running = await verifySnapshot(datastore, writer.ref, { verifier: new Verifier() });
  t.is(running.state, "skipped");
  t.regex(running.reason!, /locked/);
  await writer.abort();
  const stale = { ns: [], type: "vm" as const, id: "1", time: T0 + 5 };
  mkdirSync(datastore.snapshotDir(stale), { recursive: true });
  const crashed = await verifySnapshot(datastore, stale, { verifier: new Verifier() });
  t.is(crashed.state, "skipped");
  t.regex(crashed.reason!, /not finished/);
});

// ---- filters and whole-datastore runs ----

function withState(state?: { upid: string; state: string }): Manifest {
  const manifest = newManifest({ backupType: "vm", backupId: "1", backupTime: T0 });
  return state ? { ...manifest, unprotected: { verify_state: state } } : manifest;
}

test("needsVerify follows ignore-verified and outdated-after", (t) => {
  const started = 0x6553f100; // the UPID's start time
  const now = started + 3 * 86_400 + 10;
  const verified = withState({ upid: UPID, state: "ok" });
  const failed = withState({ upid: UPID, state: "failed" });
  t.true(needsVerify(withState(), { now }), "never verified");
  t.false(needsVerify(verified, { now }), "verified, ignore-verified by default");
  t.false(needsVerify(failed, { now }), "a failed state counts as verified too");
  t.true(needsVerify(verified, { ignoreVerified: false, now }));
  t.true(needsVerify(verified, { outdatedAfterDays: 2, now }), "3 days > 2");
  t.false(needsVerify(verified, { outdatedAfterDays: 3, now }), "3 whole days is not more than 3");
  t.true(needsVerify(withState({ upid: "garbage", state: "ok" }), { outdatedAfterDays: 30, now }));
  t.true(needsVerify(withState({ upid: UPID, state: "maybe" }), { now }), "unknown state shape");
});

test("UPID start times are read from the hex field; local UPIDs parse", (t) => {
  t.is(parseUpidStartTime(UPID), 0x6553f100);
  t.is(parseUpidStartTime("UPID:pbs:000004D2:0000162E:00000001:6553F100:verify"), undefined);
  t.is(parseUpidStartTime("not a upid"), undefined);
  const local = localUpid("verify", 1_700_000_000_500);
  t.is(parseUpidStartTime(local), 1_700_000_000);
});

test("verifyDatastore walks namespaces, skips unfinished and host/benchmark, and honours the filters", async (t) => {
  const datastore = await tempDatastore(t);
  await datastore.createNamespace(["a"]);
  await writeSampleBackup(datastore, { time: T0 });
  const bad = await writeSampleBackup(datastore, { ns: ["a"], id: "7", time: T0, seed: "bad" });
  await writeSampleBackup(datastore, { type: "host", id: "benchmark", time: T0 });
  mkdirSync(datastore.snapshotDir({ ns: [], type: "vm", id: "100", time: T0 + 50 }));
  unlinkSync(datastore.chunks.pathOf(fixedDigests(datastore, bad)[0]!));

  const first = await verifyDatastore(datastore, { now: T0 });
  t.deepEqual(
    first.results.map((r) => [r.snapshot, r.state]),
    [
      [SNAPSHOT, "ok"],
      ["ns/a/vm/7/2023-11-14T22:13:20Z", "failed"],
    ],
  );
  t.deepEqual(first.failed, ["ns/a/vm/7/2023-11-14T22:13:20Z"]);

  const second = await verifyDatastore(datastore, { now: T0 });
  t.deepEqual(second.results, [], "everything verified already");
  t.is(second.filtered, 2);

  const onlyA = await verifyDatastore(datastore, { ns: ["a"], filters: { ignoreVerified: false } });
  t.deepEqual(onlyA.failed, ["ns/a/vm/7/2023-11-14T22:13:20Z"]);
  t.is(onlyA.results.length, 1);

  const rootOnly = await verifyDatastore(datastore, {
    maxDepth: 0,
    filters: { ignoreVerified: false },
  });
  t.deepEqual(
    rootOnly.results.map((r) => r.snapshot),
    [SNAPSHOT],
  );
});
