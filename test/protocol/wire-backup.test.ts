import { existsSync } from "node:fs";
import test from "ava";
import { decodeManifestBlob } from "../../appliance/datastore/manifest-file.js";
import { formatSnapshotTime } from "../../appliance/datastore/names.js";
import { encodeBlob } from "../../appliance/format/blob.js";
import { BackupWriterClient } from "../../appliance/protocol/client/backup-writer-client.js";
import { ReaderClient } from "../../appliance/protocol/client/reader-client.js";
import type { ProtocolError } from "../../appliance/protocol/errors.js";
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
  sha256Hex,
} from "./fixtures/content.js";
import { parseIndexFile, restoreArchive } from "./fixtures/restore.js";
import { eventually, STORE, startTestServer } from "./fixtures/server.js";
import { T0 } from "./fixtures/sessions.js";

const SNAPSHOT = { type: "vm" as const, id: "100", time: T0 };

async function backupTasks(env: Awaited<ReturnType<typeof startTestServer>>) {
  return (await env.server.tasks.list({ typefilter: "backup" }, 0, 0)).items;
}

test("a full backup over TLS and HTTP/2, then a restore through the reader, gives the same bytes", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const content = sampleContent("wire");
  const writer = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  t.is(await writer.previousBackupTime(), null);
  const written = await writeBackup(writer, SNAPSHOT, content, { concurrent: true });

  const reader = await ReaderClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  t.teardown(() => reader.close());
  const manifest = decodeManifestBlob(await reader.download(MANIFEST));
  t.deepEqual(
    manifest.files.map((file) => file.filename),
    written.manifest.files.map((file) => file.filename),
  );
  const source = {
    file: (name: string) => reader.download(name),
    chunk: (digest: string) => reader.chunk(digest),
  };
  t.true((await restoreArchive(source, manifest, IMAGE)).equals(content.image));
  t.true((await restoreArchive(source, manifest, ARCHIVE)).equals(content.archive));
  const config = await reader.download(CONFIG);
  t.is(sha256Hex(config), manifest.files.find((file) => file.filename === CONFIG)!.csum);
  t.true((await reader.speedtest()).equals(Buffer.alloc(MiB, 0x41)));

  const [task] = await backupTasks(env);
  t.like(task, { worker_type: "backup", worker_id: `${STORE}:vm/100`, status: "OK" });
});

test("an incremental backup over the wire: known chunks from /previous, reuse-csum for the image", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const content = sampleContent("first");
  const first = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  await writeBackup(first, SNAPSHOT, content);

  const time = T0 + 3600;
  const writer = await BackupWriterClient.start(env.address(token), {
    store: STORE,
    ...SNAPSHOT,
    time,
  });
  t.is(await writer.previousBackupTime(), T0);
  const previous = decodeManifestBlob(await writer.previous(MANIFEST));
  const previousImage = previous.files.find((file) => file.filename === IMAGE)!;

  // the archive: unchanged chunks come from the previous index, one new chunk is uploaded
  const known = new Set<string>();
  const previousArchive = parseIndexFile(ARCHIVE, await writer.previous(ARCHIVE));
  for (let i = 0; i < previousArchive.count; i++)
    known.add(previousArchive.digest(i).toString("hex"));
  const archive = Buffer.concat([content.archive, Buffer.from("appended at the end")]);
  const archivePieces = cutDynamic(archive, [...content.archiveChunks, 19]);
  const dynamicWid = await writer.createDynamicIndex(ARCHIVE);
  for (const each of archivePieces.filter((piece) => !known.has(piece.digest))) {
    await writer.uploadChunk("dynamic", dynamicWid, each);
  }
  await writer.appendIndex("dynamic", dynamicWid, archivePieces);
  const archiveCsum = dynamicCsum(archivePieces);
  await writer.closeIndex("dynamic", dynamicWid, {
    chunkCount: archivePieces.length,
    size: archive.length,
    csum: archiveCsum,
  });

  // the image: pre-filled from the previous index, only the dirty chunk is written
  const image = Buffer.from(content.image);
  image.fill(0xaa, 2 * FIXED_CHUNK, 2 * FIXED_CHUNK + 10);
  const imagePieces = cutFixed(image);
  const fixedWid = await writer.createFixedIndex(IMAGE, image.length, previousImage.csum);
  await writer.uploadChunk("fixed", fixedWid, imagePieces[2]!);
  await writer.appendIndex("fixed", fixedWid, [imagePieces[2]!]);
  const imageCsum = fixedCsum(imagePieces.map((each) => each.digest));
  await writer.closeIndex("fixed", fixedWid, {
    chunkCount: 1,
    size: imagePieces[2]!.size,
    csum: imageCsum,
  });
  const { encoded } = manifestBlob({ ...SNAPSHOT, time }, [
    { filename: IMAGE, size: image.length, csum: imageCsum },
    { filename: ARCHIVE, size: archive.length, csum: archiveCsum },
  ]);
  await writer.uploadBlob(MANIFEST, encoded);
  await writer.finish();

  const reader = await ReaderClient.start(env.address(token), { store: STORE, ...SNAPSHOT, time });
  t.teardown(() => reader.close());
  const manifest = decodeManifestBlob(await reader.download(MANIFEST));
  t.is((manifest.unprotected.chunk_upload_stats as { count: number }).count, 2);
  const source = {
    file: (name: string) => reader.download(name),
    chunk: (digest: string) => reader.chunk(digest),
  };
  t.true((await restoreArchive(source, manifest, IMAGE)).equals(image));
  t.true((await restoreArchive(source, manifest, ARCHIVE)).equals(archive));
});

test("a connection dropped mid-backup leaves no snapshot and a failed task", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const writer = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  const pieces = cutFixed(sampleContent("dropped").image);
  const wid = await writer.createFixedIndex(IMAGE, 9 * MiB + 1000);
  await writer.uploadChunk("fixed", wid, pieces[0]!);
  await writer.uploadBlob(CONFIG, encodeBlob(Buffer.from("memory: 1\n")));
  const dir = env.store.snapshotDir({ ns: [], ...SNAPSHOT });
  t.true(existsSync(dir));
  const inFlight = writer.uploadChunk("fixed", wid, pieces[1]!); // cut while its body is sent
  writer.connection.destroy();
  await t.throwsAsync(inFlight, { code: "CAIRN_E_PROTOCOL_CONNECTION_FAILED" });

  t.true(await eventually(() => !existsSync(dir)), "snapshot directory removed");
  t.true(
    await eventually(async () => (await backupTasks(env))[0]?.status !== undefined),
    "task ended",
  );
  const [task] = await backupTasks(env);
  t.is(task!.status, "backup ended without finish");
  t.deepEqual(await env.store.listSnapshots([], { type: "vm", id: "100" }), []);
  // the group is free again
  const next = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  await writeBackup(next, SNAPSHOT, sampleContent("after", MiB));
  t.is((await env.store.listSnapshots([], { type: "vm", id: "100" }))[0]?.finished, true);
});

test("a silent session is closed after the idle time: no snapshot left, the group free again", async (t) => {
  // long enough that a busy machine never pauses a working session this long
  const env = await startTestServer(t, { sessionIdleMs: 3000 });
  const { token } = await env.user("backup", "DatastoreBackup");
  const writer = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  await writer.uploadBlob(CONFIG, encodeBlob(Buffer.from("memory: 1\n")));
  const dir = env.store.snapshotDir({ ns: [], ...SNAPSHOT });
  t.true(existsSync(dir));
  // the client now says nothing: the server gives up on it
  t.true(await eventually(() => !existsSync(dir), 30_000), "snapshot directory removed");
  t.true(
    await eventually(async () => (await backupTasks(env))[0]?.status !== undefined),
    "task ended",
  );
  t.is((await backupTasks(env))[0]!.status, "backup ended without finish");
  await t.throwsAsync(writer.uploadBlob("late.blob", encodeBlob(Buffer.from("x"))));
  const next = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  await writeBackup(next, SNAPSHOT, sampleContent("after-idle", MiB));
  t.is((await env.store.listSnapshots([], { type: "vm", id: "100" }))[0]?.finished, true);
});

test("with verify-new, each finished backup is verified at once by a task of the backup's user", async (t) => {
  const env = await startTestServer(t);
  await env.server.datastores.config.update((file) => {
    file.datastore[STORE]!["verify-new"] = true;
    return file;
  });
  const { token } = await env.user("backup", "DatastoreBackup");
  const writer = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  await writeBackup(writer, SNAPSHOT, sampleContent("verify-new", MiB));
  const verifyTasks = async () =>
    (await env.server.tasks.list({ typefilter: "verify_snapshot" }, 0, 0)).items;
  t.true(
    await eventually(async () => (await verifyTasks())[0]?.status === "OK", 30_000),
    "a verify task ended OK",
  );
  const [task] = await verifyTasks();
  t.like(task, {
    worker_id: `${STORE}:vm/100/${formatSnapshotTime(T0)}`,
    user: "backup@pbs!client",
  });
  const manifest = await env.store.readManifest({ ns: [], ...SNAPSHOT });
  t.like(manifest.unprotected?.verify_state, { state: "ok", upid: task!.upid });
});

test("a second client writing the same group at once is refused", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const first = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  const err = (await t.throwsAsync(
    BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT, time: T0 + 1 }),
  )) as ProtocolError;
  t.is(err.kind, "remote-error");
  t.is(err.httpStatus, 409);
  t.regex(err.message, /backup group vm\/100/);
  await writeBackup(first, SNAPSHOT, sampleContent("one", MiB));
  t.is((await env.store.listSnapshots([], { type: "vm", id: "100" })).length, 1);
});

test("a body longer than declared is refused with 400; the session and the server go on", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const writer = await BackupWriterClient.start(env.address(token), { store: STORE, ...SNAPSHOT });
  const blob = encodeBlob(Buffer.from("cores: 4\n"));
  for (const extra of [1000, 8 * MiB]) {
    const err = (await t.throwsAsync(
      writer.connection.call("POST", "/blob", {
        query: { "file-name": CONFIG, "encoded-size": blob.length },
        body: Buffer.concat([blob, Buffer.alloc(extra)]),
      }),
    )) as ProtocolError;
    t.is(err.httpStatus, 400, err.message);
    t.regex(err.message, new RegExp(`exceeds the declared encoded-size of ${blob.length} bytes`));
  }
  // another session runs meanwhile, and the refused one carries on to a finished backup
  const other = await BackupWriterClient.start(env.address(token), {
    store: STORE,
    ...SNAPSHOT,
    id: "200",
  });
  await writeBackup(other, { ...SNAPSHOT, id: "200" }, sampleContent("other", MiB));
  await writeBackup(writer, SNAPSHOT, sampleContent("same", MiB));
  for (const id of ["100", "200"]) {
    t.is((await env.store.listSnapshots([], { type: "vm", id }))[0]?.finished, true, id);
  }
});

test("the benchmark session takes speedtest uploads and leaves nothing behind", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const target = {
    store: STORE,
    type: "host" as const,
    id: "benchmark",
    time: T0,
    benchmark: true,
  };
  const writer = await BackupWriterClient.start(env.address(token), target);
  await Promise.all([0, 1, 2, 3].map(() => writer.speedtest(Buffer.alloc(4 * MiB, 7))));
  await writeBackup(writer, target, sampleContent("bench", MiB));
  t.true(
    await eventually(
      async () =>
        (await env.store.listSnapshots([], { type: "host", id: "benchmark" })).length === 0,
    ),
  );
  t.true(await eventually(async () => (await backupTasks(env))[0]?.status === "OK"), "task OK");
});
