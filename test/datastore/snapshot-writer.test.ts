import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { Datastore } from "../../appliance/datastore/datastore.js";
import type { DatastoreError } from "../../appliance/datastore/errors.js";
import { decodeManifestBlob } from "../../appliance/datastore/manifest-file.js";
import { Verifier, verifySnapshot } from "../../appliance/datastore/verify.js";
import { decodeBlob, encodeBlob } from "../../appliance/format/blob.js";
import { decodeChunk, encodeChunk } from "../../appliance/format/chunk.js";
import { DynamicIndexReader } from "../../appliance/format/dynamic-index.js";
import { FixedIndexReader } from "../../appliance/format/fixed-index.js";
import type { IndexReader } from "../../appliance/format/index-file.js";
import { addManifestFile, newManifest } from "../../appliance/format/manifest.js";
import {
  SAMPLE_ARCHIVE_CHUNKS,
  SAMPLE_CHUNK_SIZE,
  SAMPLE_IMAGE_SIZE,
  sampleContent,
  writeSampleBackup,
  writeSampleFiles,
} from "./fixtures/sample-backup.js";

const T0 = 1_700_000_000;
const OWNER = "backup@pbs";

async function tempDatastore(
  t: ExecutionContext,
  syncLevel: "none" | "file" | "filesystem" = "none",
) {
  const dir = mkdtempSync(join(tmpdir(), "cairn-writer-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return Datastore.create(join(dir, "store"), { name: "store1", syncLevel, preallocate: false });
}

async function restore(datastore: Datastore, index: IndexReader): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < index.count; i++) {
    const { start, end } = index.chunkRange(i);
    const digest = index.digest(i);
    const encoded = await datastore.chunks.read(digest.toString("hex"));
    parts.push(decodeChunk(encoded, digest, { size: end - start }));
  }
  return Buffer.concat(parts);
}

function code(kind: string): { code: string } {
  return { code: `CAIRN_E_DATASTORE_${kind.toUpperCase().replaceAll("-", "_")}` };
}

for (const syncLevel of ["none", "file", "filesystem"] as const) {
  test(`round trip with sync level ${syncLevel}: write, list, read back, verify`, async (t) => {
    const datastore = await tempDatastore(t, syncLevel);
    const backup = await writeSampleBackup(datastore, { time: T0, seed: "one" });

    const [info, ...others] = await datastore.listSnapshots([], { type: "vm", id: "100" });
    t.is(others.length, 0);
    t.like(info, {
      type: "vm",
      id: "100",
      time: T0,
      finished: true,
      protected: false,
      owner: OWNER,
    });
    const sizes = Object.fromEntries(info!.files.map((file) => [file.filename, file.size]));
    const manifestSize = readFileSync(
      join(datastore.snapshotDir(backup.ref), "index.json.blob"),
    ).length;
    t.deepEqual(sizes, {
      "disk.img.fidx": SAMPLE_IMAGE_SIZE,
      "root.pxar.didx": backup.archive.length,
      "qemu-server.conf.blob": encodeBlob(backup.config).length,
      "index.json.blob": manifestSize,
    });
    t.is(
      info!.size,
      Object.values(sizes).reduce((a, b) => a! + b!, 0),
    );

    const reader = await datastore.openReader(backup.ref);
    try {
      const image = await restore(
        datastore,
        FixedIndexReader.parse(await reader.readFile("disk.img.fidx")),
      );
      t.deepEqual(image, backup.image);
      const archive = await restore(
        datastore,
        DynamicIndexReader.parse(await reader.readFile("root.pxar.didx")),
      );
      t.deepEqual(archive, backup.archive);
      t.deepEqual(decodeBlob(await reader.readFile("qemu-server.conf.blob")), backup.config);
      t.deepEqual(decodeManifestBlob(await reader.readFile("index.json.blob")), backup.manifest);
    } finally {
      reader.close();
    }

    const chunkCount = SAMPLE_IMAGE_SIZE / SAMPLE_CHUNK_SIZE + SAMPLE_ARCHIVE_CHUNKS.length;
    t.like(backup.manifest.unprotected.chunk_upload_stats, {
      count: Math.ceil(chunkCount),
      size: SAMPLE_IMAGE_SIZE + backup.archive.length,
      duplicates: 0,
    });
    const verified = await verifySnapshot(datastore, backup.ref, { verifier: new Verifier() });
    t.is(verified.state, "ok");
    t.deepEqual(verified.problems, []);
    t.is((await datastore.readManifest(backup.ref)).unprotected.verify_state?.constructor, Object);
    t.deepEqual(readdirSync(join(datastore.root, ".writers")), [], "writer registration released");
  });
}

test("the manifest can be handed to finish() as the encoded blob a client uploads", async (t) => {
  const datastore = await tempDatastore(t);
  const writer = await datastore.beginBackup({ type: "host", id: "h", time: T0, owner: OWNER });
  const manifest = await writeSampleFiles(writer, sampleContent("blob"));
  const written = await writer.finish(
    encodeBlob(
      Buffer.from(
        JSON.stringify({
          "backup-type": "host",
          "backup-id": "h",
          "backup-time": T0,
          files: manifest.files.map((file) => ({
            filename: file.filename,
            "crypt-mode": file.cryptMode,
            size: file.size,
            csum: file.csum,
          })),
          unprotected: { "key-fingerprint": "aa:bb" },
          signature: null,
        }),
      ),
    ),
  );
  t.deepEqual(written.files, manifest.files);
  t.is(written.unprotected["key-fingerprint"], "aa:bb");
  t.truthy(written.unprotected.chunk_upload_stats);
});

test("a second writer on the same group is refused while the first runs", async (t) => {
  const datastore = await tempDatastore(t);
  const first = await datastore.beginBackup({ type: "vm", id: "100", time: T0, owner: OWNER });
  const error = await t.throwsAsync(
    datastore.beginBackup({ type: "vm", id: "100", time: T0 + 10, owner: OWNER }),
    code("lock-busy"),
  );
  t.regex(error!.message, /backup group vm\/100 is locked.*start a backup/);
  // another group is independent
  const other = await datastore.beginBackup({ type: "vm", id: "101", time: T0, owner: OWNER });
  await other.abort();
  await first.abort();
  const next = await datastore.beginBackup({ type: "vm", id: "100", time: T0 + 10, owner: OWNER });
  await next.abort();
});

test("a backup time not newer than the last finished snapshot is refused", async (t) => {
  const datastore = await tempDatastore(t);
  await writeSampleBackup(datastore, { time: T0 });
  for (const time of [T0, T0 - 1]) {
    const error = await t.throwsAsync(
      datastore.beginBackup({ type: "vm", id: "100", time, owner: OWNER }),
      code("not-newer"),
    );
    t.regex(error!.message, /not newer than the last backup/);
  }
  const later = await datastore.beginBackup({ type: "vm", id: "100", time: T0 + 1, owner: OWNER });
  await later.abort();
});

test("an owner other than the group's is refused; a user may write to its own token's group", async (t) => {
  const datastore = await tempDatastore(t);
  await writeSampleBackup(datastore, { time: T0, owner: "alice@pbs!laptop" });
  t.is(await datastore.getOwner([], "vm", "100"), "alice@pbs!laptop");
  t.is(
    readFileSync(join(datastore.groupDir([], "vm", "100"), "owner"), "utf8"),
    "alice@pbs!laptop\n",
  );
  const error = await t.throwsAsync(
    datastore.beginBackup({ type: "vm", id: "100", time: T0 + 1, owner: "bob@pbs" }),
    code("owner-mismatch"),
  );
  t.is((error as DatastoreError).httpStatus, 403);
  t.regex(error!.message, /bob@pbs may not back up into vm\/100: it belongs to alice@pbs!laptop/);
  const user = await datastore.beginBackup({
    type: "vm",
    id: "100",
    time: T0 + 1,
    owner: "alice@pbs",
  });
  await user.abort();
  t.is(await datastore.getOwner([], "vm", "100"), "alice@pbs!laptop", "owner unchanged");
});

test("an aborted backup leaves nothing and is never listed", async (t) => {
  const datastore = await tempDatastore(t);
  const writer = await datastore.beginBackup({ type: "vm", id: "100", time: T0, owner: OWNER });
  await writeSampleFiles(writer, sampleContent("x"));
  const open = await writer.createDynamicIndex("extra.pxar.didx");
  await open.writer.append(10, Buffer.alloc(32, 1));
  await writer.abort();
  t.false(existsSync(writer.dir));
  t.deepEqual(await datastore.listSnapshots([], { type: "vm", id: "100" }), []);
  await t.throwsAsync(writer.insertChunk("00".repeat(32), Buffer.alloc(20)), code("bad-state"));
  await writer.abort(); // idempotent
});

test("a crashed backup is listed unfinished, then removed by the next backup", async (t) => {
  const datastore = await tempDatastore(t);
  const first = await writeSampleBackup(datastore, { time: T0 });
  // what a killed backup leaves: an index renamed into place, another half written, no manifest
  const crashed = { ...first.ref, time: T0 + 200 };
  const crashedDir = datastore.snapshotDir(crashed);
  mkdirSync(crashedDir);
  copyFileSync(
    join(datastore.snapshotDir(first.ref), "disk.img.fidx"),
    join(crashedDir, "disk.img.fidx"),
  );
  writeFileSync(join(crashedDir, "root.pxar.tmp_didx"), "partial");

  const listed = await datastore.listSnapshots([], { type: "vm", id: "100" });
  t.deepEqual(
    listed.map((s) => [s.time, s.finished]),
    [
      [T0, true],
      [T0 + 200, false],
    ],
  );
  t.deepEqual(
    listed[1]!.files,
    [{ filename: "disk.img.fidx" }],
    "temp files are not listed; no sizes",
  );
  await t.throwsAsync(datastore.openReader(crashed), {
    ...code("not-found"),
    message: /not finished/,
  });

  // the crashed snapshot is newer than the last finished one, but only finished ones count
  const next = await writeSampleBackup(datastore, { time: T0 + 100 });
  t.false(existsSync(crashedDir), "stale snapshot removed");
  t.deepEqual(
    (await datastore.listSnapshots([], { type: "vm", id: "100" })).map((s) => [s.time, s.finished]),
    [
      [T0, true],
      [next.ref.time, true],
    ],
  );
});

test("an unfinished snapshot being written is not removed by cleanup", async (t) => {
  const datastore = await tempDatastore(t);
  const writer = await datastore.beginBackup({ type: "vm", id: "100", time: T0, owner: OWNER });
  t.deepEqual(await datastore.cleanupStaleSnapshots([], "vm", "100"), []);
  t.true(existsSync(writer.dir));
  await t.throwsAsync(datastore.deleteSnapshot(writer.ref), code("lock-busy"));
  await writer.abort();
});

test("previous() is the last finished snapshot, unless its verification failed", async (t) => {
  const datastore = await tempDatastore(t);
  const first = await writeSampleBackup(datastore, { time: T0 });
  const second = await datastore.beginBackup({ type: "vm", id: "100", time: T0 + 1, owner: OWNER });
  t.is(second.previous()?.ref.time, T0);
  t.deepEqual(second.previous()?.manifest.files, first.manifest.files);
  t.deepEqual(
    FixedIndexReader.parse(await second.readPreviousFile("disk.img.fidx")).size,
    SAMPLE_IMAGE_SIZE,
  );
  // the base cannot be removed while the backup uses it
  await t.throwsAsync(datastore.deleteSnapshot(first.ref), code("lock-busy"));
  await second.abort();

  await datastore.updateManifest(first.ref, (m) => ({
    ...m,
    unprotected: { ...m.unprotected, verify_state: { upid: "x", state: "failed" } },
  }));
  const third = await datastore.beginBackup({ type: "vm", id: "100", time: T0 + 2, owner: OWNER });
  t.is(third.previous(), undefined);
  await third.abort();
});

test("duplicate chunks are counted and refreshed, not rewritten", async (t) => {
  const datastore = await tempDatastore(t);
  await writeSampleBackup(datastore, { time: T0, seed: "same" });
  const second = await writeSampleBackup(datastore, { time: T0 + 1, seed: "same" });
  const stats = second.manifest.unprotected.chunk_upload_stats as Record<string, number>;
  t.is(stats.duplicates, stats.count);
  t.true(stats.compressed_size! > 0);
});

test("finish refuses open indexes, an empty backup and a manifest that does not match; each aborts", async (t) => {
  const datastore = await tempDatastore(t);
  const empty = await datastore.beginBackup({ type: "vm", id: "1", time: T0, owner: OWNER });
  const manifest = newManifest({ backupType: "vm", backupId: "1", backupTime: T0 });
  await t.throwsAsync(empty.finish(manifest), {
    ...code("bad-state"),
    message: /contains no files/,
  });
  t.false(existsSync(empty.dir));

  const open = await datastore.beginBackup({ type: "vm", id: "1", time: T0, owner: OWNER });
  await writeSampleFiles(open, sampleContent("o"));
  await open.createFixedIndex("other.img.fidx", 10, SAMPLE_CHUNK_SIZE);
  await t.throwsAsync(open.finish(manifest), {
    ...code("bad-state"),
    message: /index writers still open \(other\.img\.fidx\)/,
  });
  t.false(existsSync(open.dir));

  const wrong = await datastore.beginBackup({ type: "vm", id: "1", time: T0, owner: OWNER });
  const files = await writeSampleFiles(wrong, sampleContent("w"));
  const lying = addManifestFile(
    { ...files, files: files.files.filter((f) => f.filename !== "qemu-server.conf.blob") },
    { filename: "qemu-server.conf.blob", size: 3, csum: "00".repeat(32) },
  );
  await t.throwsAsync(wrong.finish(lying), {
    ...code("manifest-mismatch"),
    message: /lists qemu-server\.conf\.blob, which was uploaded with size \d+/,
  });
  t.deepEqual(await datastore.listSnapshots([], { type: "vm", id: "1" }), []);

  const other = await datastore.beginBackup({ type: "vm", id: "1", time: T0, owner: OWNER });
  await writeSampleFiles(other, sampleContent("x"));
  await t.throwsAsync(other.finish({ ...files, backupTime: T0 + 5 }), code("manifest-mismatch"));
});

test("an index closes only when it matches what the client announced; the name is then free again", async (t) => {
  const datastore = await tempDatastore(t);
  const writer = await datastore.beginBackup({ type: "vm", id: "1", time: T0, owner: OWNER });
  const chunk = encodeChunk(Buffer.alloc(100, 3));
  await writer.insertChunk(chunk.digest, chunk.encoded, 100);
  const index = await writer.createDynamicIndex("a.didx");
  t.true(existsSync(join(writer.dir, "a.tmp_didx")));
  t.false(existsSync(join(writer.dir, "a.didx")));
  await index.writer.append(100, chunk.digest);
  await t.throwsAsync(index.close({ size: 99 }), {
    ...code("manifest-mismatch"),
    message: /index a\.didx has size 100, expected 99/,
  });
  t.deepEqual(readdirSync(writer.dir), [], "temp file removed");

  const again = await writer.createDynamicIndex("a.didx");
  await again.writer.append(100, chunk.digest);
  const closed = await again.close({ size: 100, chunkCount: 1 });
  t.deepEqual(readdirSync(writer.dir), ["a.didx"]);
  await t.throwsAsync(writer.createDynamicIndex("a.didx"), code("exists"));
  await t.throwsAsync(writer.createFixedIndex("b.didx", 1), { message: /must end in \.fidx/ });
  await t.throwsAsync(writer.writeBlob("index.json.blob", encodeBlob(Buffer.from("x"))), {
    message: /is the manifest/,
  });
  const corrupt = encodeBlob(Buffer.from("hello"));
  corrupt[corrupt.length - 1]! ^= 1;
  await t.throwsAsync(writer.writeBlob("c.blob", corrupt), { code: "CAIRN_E_FORMAT_CRC_MISMATCH" });
  t.false(existsSync(join(writer.dir, "c.blob")));

  const manifest = addManifestFile(
    newManifest({ backupType: "vm", backupId: "1", backupTime: T0 }),
    {
      filename: "a.didx",
      ...closed,
    },
  );
  await writer.finish(manifest);
  t.true((await datastore.snapshotInfo(writer.ref)).finished);
  await t.throwsAsync(writer.createDynamicIndex("late.didx"), code("bad-state"));
});

test("finish releases every lock: the snapshot and the group can then be removed", async (t) => {
  const datastore = await tempDatastore(t);
  const backup = await writeSampleBackup(datastore, { time: T0 });
  await datastore.deleteSnapshot(backup.ref);
  t.false(existsSync(datastore.snapshotDir(backup.ref)));
  await datastore.deleteGroup([], "vm", "100");
  t.false(existsSync(datastore.groupDir([], "vm", "100")));
});

test("a backup into a namespace that does not exist is refused and creates nothing", async (t) => {
  const datastore = await tempDatastore(t);
  await t.throwsAsync(
    datastore.beginBackup({ ns: ["missing"], type: "vm", id: "1", time: T0, owner: OWNER }),
    { ...code("not-found"), message: /namespace missing does not exist/ },
  );
  t.false(existsSync(join(datastore.root, "ns")));
  await datastore.createNamespace(["prod"]);
  const backup = await writeSampleBackup(datastore, { ns: ["prod"], time: T0 });
  t.true(existsSync(join(datastore.root, "ns/prod/vm/100/2023-11-14T22:13:20Z/index.json.blob")));
  t.is(backup.ref.ns[0], "prod");
});
