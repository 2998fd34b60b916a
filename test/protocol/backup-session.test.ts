import { existsSync } from "node:fs";
import test from "ava";
import { decodeManifestBlob } from "../../appliance/datastore/manifest-file.js";
import { decodeBlob, encodeBlob } from "../../appliance/format/blob.js";
import { ARCHIVE, CONFIG, IMAGE, MANIFEST, writeBackup } from "./fixtures/backup-flow.js";
import {
  cutDynamic,
  cutFixed,
  dynamicCsum,
  FIXED_CHUNK,
  fixedCsum,
  MiB,
  manifestBlob,
  sampleContent,
} from "./fixtures/content.js";
import { parseIndexFile, restoreArchive } from "./fixtures/restore.js";
import { openBackup, refused, T0, tempStore } from "./fixtures/sessions.js";

const SNAPSHOT = { type: "vm" as const, id: "100", time: T0 };

async function readerSource(store: Awaited<ReturnType<typeof tempStore>>, time: number) {
  const reader = await store.openReader({ ns: [], type: "vm", id: "100", time });
  return {
    reader,
    source: {
      file: (name: string) => reader.readFile(name),
      chunk: (d: string) => reader.readChunk(d),
    },
  };
}

test("a full backup through the session is a finished snapshot that restores byte for byte", async (t) => {
  const store = await tempStore(t);
  const { session, client } = await openBackup(t, store);
  const content = sampleContent("full");
  const written = await writeBackup(client, SNAPSHOT, content, { concurrent: true });

  t.is(session.state, "finished");
  const { reader, source } = await readerSource(store, T0);
  t.teardown(() => reader.close());
  t.deepEqual(
    reader.manifest.files.map((file) => file.filename),
    [IMAGE, ARCHIVE, CONFIG],
  );
  t.deepEqual(reader.manifest.unprotected.chunk_upload_stats, {
    count: written.uploaded,
    size: content.image.length + content.archive.length,
    compressed_size: [...written.imagePieces, ...written.archivePieces].reduce(
      (sum, each) => sum + each.encoded.length,
      0,
    ),
    duplicates: 0,
  });
  t.true((await restoreArchive(source, reader.manifest, IMAGE)).equals(content.image));
  t.true((await restoreArchive(source, reader.manifest, ARCHIVE)).equals(content.archive));
  t.true(decodeBlob(await reader.readFile(CONFIG)).equals(content.config));
});

test("the session answers GET / with its calls and previous_backup_time with null at first", async (t) => {
  const store = await tempStore(t);
  const { client } = await openBackup(t, store);
  t.is(await client.previousBackupTime(), null);
  const listing = (await client.call({ method: "GET", path: "/" })) as { subdir: string }[];
  t.true(listing.some((entry) => entry.subdir === "fixed_chunk"));
  t.true(listing.some((entry) => entry.subdir === "finish"));
});

test("/previous registers the previous index's chunks: they are appended without an upload", async (t) => {
  const store = await tempStore(t);
  const content = sampleContent("incremental");
  const first = await openBackup(t, store);
  await writeBackup(first.client, SNAPSHOT, content);

  const { session, client } = await openBackup(t, store, { time: T0 + 60 });
  t.is(await client.previousBackupTime(), T0);
  t.true(decodeManifestBlob(await client.previous(MANIFEST)).files.length === 3);
  t.is(session.knownChunks, 0);
  const known = new Set<string>();
  for (const name of [IMAGE, ARCHIVE]) {
    const index = parseIndexFile(name, await client.previous(name));
    for (let i = 0; i < index.count; i++) known.add(index.digest(i).toString("hex"));
  }
  t.is(session.knownChunks, 3 + content.archiveChunks.length);
  t.is(known.size, session.knownChunks);

  const second = await writeBackup(client, { ...SNAPSHOT, time: T0 + 60 }, content, { known });
  t.is(second.uploaded, 0);
  const { reader, source } = await readerSource(store, T0 + 60);
  t.teardown(() => reader.close());
  t.deepEqual(reader.manifest.unprotected.chunk_upload_stats, {
    count: 0,
    size: 0,
    compressed_size: 0,
    duplicates: 0,
  });
  t.true((await restoreArchive(source, reader.manifest, IMAGE)).equals(content.image));
});

test("reuse-csum pre-fills the fixed index: only the changed chunk is sent, the close checks the full csum", async (t) => {
  const store = await tempStore(t);
  const before = sampleContent("image");
  await writeBackup((await openBackup(t, store)).client, SNAPSHOT, before);
  const previousCsum = fixedCsum(cutFixed(before.image).map((each) => each.digest));

  const { client } = await openBackup(t, store, { time: T0 + 1 });
  const after = Buffer.from(before.image);
  after.fill(0x55, FIXED_CHUNK, FIXED_CHUNK + 1000); // the second chunk changes
  const pieces = cutFixed(after);
  const wid = await client.createFixedIndex(IMAGE, after.length, previousCsum);
  await client.uploadChunk("fixed", wid, pieces[1]!);
  await client.appendIndex("fixed", wid, [pieces[1]!]);
  const csum = fixedCsum(pieces.map((each) => each.digest));
  // incremental: chunk-count and size count what this session wrote, not the whole image
  await client.closeIndex("fixed", wid, { chunkCount: 1, size: FIXED_CHUNK, csum });
  const { encoded } = manifestBlob({ ...SNAPSHOT, time: T0 + 1 }, [
    { filename: IMAGE, size: after.length, csum },
  ]);
  await client.uploadBlob(MANIFEST, encoded);
  await client.finish();

  const { reader, source } = await readerSource(store, T0 + 1);
  t.teardown(() => reader.close());
  t.true((await restoreArchive(source, reader.manifest, IMAGE)).equals(after));
  t.is((reader.manifest.unprotected.chunk_upload_stats as { count: number }).count, 1);
});

test("reuse-csum is refused without a previous backup, with a wrong csum and with another size", async (t) => {
  const store = await tempStore(t);
  const content = sampleContent("reuse");
  const alone = await openBackup(t, store, { id: "200" });
  const anyCsum = "ab".repeat(32);
  await refused(t, alone.client.createFixedIndex(IMAGE, 5 * MiB, anyCsum), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_REUSE_MISMATCH",
    message: /no previous backup/,
  });

  await writeBackup((await openBackup(t, store)).client, SNAPSHOT, content);
  const csum = fixedCsum(cutFixed(content.image).map((each) => each.digest));
  const { client } = await openBackup(t, store, { time: T0 + 1 });
  await refused(t, client.createFixedIndex(IMAGE, content.image.length, anyCsum), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_REUSE_MISMATCH",
    message: new RegExp(`reuse-csum ${anyCsum} does not match the previous index \\(${csum}\\)`),
  });
  await refused(t, client.createFixedIndex(IMAGE, content.image.length + 1, csum), {
    status: 400,
    message: /size \d+ differs/,
  });
  await refused(t, client.createFixedIndex("other.img.fidx", content.image.length, csum), {
    status: 400,
    message: /previous backup has no file other\.img\.fidx/,
  });
  // the refusals left the name free
  t.is(await client.createFixedIndex(IMAGE, content.image.length, csum), 1);
});

test("a session closed without finish removes its snapshot and frees the group", async (t) => {
  const store = await tempStore(t);
  const lines: string[] = [];
  const { session, client } = await openBackup(t, store, { log: (line) => lines.push(line) });
  const pieces = cutFixed(sampleContent("dropped").image);
  const wid = await client.createFixedIndex(IMAGE, 9 * MiB + 1000);
  await client.uploadChunk("fixed", wid, pieces[0]!);
  await client.uploadBlob(CONFIG, encodeBlob(Buffer.from("x")));
  const dir = store.snapshotDir(session.writer.ref);
  t.true(existsSync(dir));

  t.deepEqual(await session.close(), { ok: false, message: "backup ended without finish" });
  t.false(existsSync(dir));
  t.deepEqual(await store.listSnapshots([], { type: "vm", id: "100" }), []);
  t.true(lines.some((line) => /ended without finish: snapshot removed/.test(line)));
  const next = await openBackup(t, store, { time: T0 + 1 });
  t.is(next.session.state, "open");
});

test("a benchmark session's snapshot is gone once the session ends", async (t) => {
  const store = await tempStore(t);
  const snapshot = { type: "host" as const, id: "benchmark", time: T0 };
  const { session, client } = await openBackup(t, store, { ...snapshot, benchmark: true });
  await writeBackup(client, snapshot, sampleContent("bench", 1 * MiB));
  t.true(existsSync(store.snapshotDir(session.writer.ref)));
  t.deepEqual(await session.close(), { ok: true, message: "backup finished" });
  t.false(existsSync(store.snapshotDir(session.writer.ref)));
});

test("fixed chunks may be appended out of order and in several batches", async (t) => {
  const store = await tempStore(t);
  const { client } = await openBackup(t, store);
  const image = sampleContent("order", 3 * FIXED_CHUNK + 5).image;
  const pieces = cutFixed(image);
  const wid = await client.createFixedIndex(IMAGE, image.length);
  await Promise.all(pieces.map((each) => client.uploadChunk("fixed", wid, each)));
  await client.appendIndex("fixed", wid, [pieces[3]!, pieces[1]!]);
  await client.appendIndex("fixed", wid, [pieces[0]!]);
  await client.appendIndex("fixed", wid, [pieces[2]!]);
  const csum = fixedCsum(pieces.map((each) => each.digest));
  await client.closeIndex("fixed", wid, { chunkCount: 4, size: image.length, csum });
  const { encoded } = manifestBlob(SNAPSHOT, [{ filename: IMAGE, size: image.length, csum }]);
  await client.uploadBlob(MANIFEST, encoded);
  await client.finish();
  const { reader, source } = await readerSource(store, T0);
  t.teardown(() => reader.close());
  t.true((await restoreArchive(source, reader.manifest, IMAGE)).equals(image));
});

test("PUT append takes its parameters as a form body too", async (t) => {
  const store = await tempStore(t);
  const { client } = await openBackup(t, store);
  const [piece] = cutDynamic(Buffer.from("hello"), [5]);
  const wid = await client.createDynamicIndex(ARCHIVE);
  await client.uploadChunk("dynamic", wid, piece!);
  const body = new URLSearchParams({
    wid: String(wid),
    "digest-list": piece!.digest,
    "offset-list": "0",
  });
  await client.call({
    method: "PUT",
    path: "/dynamic_index",
    body: Buffer.from(body.toString()),
    contentType: "application/x-www-form-urlencoded",
  });
  await client.closeIndex("dynamic", wid, {
    chunkCount: 1,
    size: 5,
    csum: dynamicCsum([piece!]),
  });
  t.is(await client.createDynamicIndex("second.didx"), 2);
});
