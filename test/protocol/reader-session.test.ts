import test from "ava";
import { isDatastoreError } from "../../appliance/datastore/errors.js";
import { decodeManifestBlob } from "../../appliance/datastore/manifest-file.js";
import { ReaderSession } from "../../appliance/protocol/reader-session.js";
import { ARCHIVE, CONFIG, IMAGE, MANIFEST, writeBackup } from "./fixtures/backup-flow.js";
import { sampleContent } from "./fixtures/content.js";
import { restoreArchive } from "./fixtures/restore.js";
import { openBackup, refused, T0, tempStore } from "./fixtures/sessions.js";

const REF = { ns: [], type: "vm" as const, id: "100", time: T0 };

async function finishedSnapshot(t: Parameters<typeof tempStore>[0]) {
  const store = await tempStore(t);
  const content = sampleContent("reader");
  const written = await writeBackup((await openBackup(t, store)).client, REF, content);
  const session = new ReaderSession(await store.openReader(REF));
  t.teardown(() => session.close());
  const call = async (path: string, query: Record<string, string> = {}) => {
    const result = await session.handle({ method: "GET", path, query });
    if (result.kind !== "bytes") throw new Error(`${path} answered JSON`);
    return result.bytes;
  };
  return { store, content, written, session, call };
}

test("the reader serves the manifest, blobs and indexes, and the chunks of downloaded indexes", async (t) => {
  const { content, call } = await finishedSnapshot(t);
  const manifest = decodeManifestBlob(await call("/download", { "file-name": MANIFEST }));
  t.deepEqual(
    manifest.files.map((file) => file.filename),
    [IMAGE, ARCHIVE, CONFIG],
  );
  const source = {
    file: (name: string) => call("/download", { "file-name": name }),
    chunk: (digest: string) => call("/chunk", { digest }),
  };
  t.true((await restoreArchive(source, manifest, IMAGE)).equals(content.image));
  t.true((await restoreArchive(source, manifest, ARCHIVE)).equals(content.archive));
});

test("a chunk is refused until an index downloaded in this session refers to it", async (t) => {
  const { written, call } = await finishedSnapshot(t);
  const imageChunk = written.imagePieces[0]!.digest;
  const archiveChunk = written.archivePieces[0]!.digest;
  await refused(t, call("/chunk", { digest: imageChunk }), {
    status: 403,
    code: "CAIRN_E_PROTOCOL_CHUNK_NOT_ALLOWED",
    message: new RegExp(`download of chunk ${imageChunk} not allowed`),
  });
  await call("/download", { "file-name": IMAGE });
  t.true((await call("/chunk", { digest: imageChunk })).equals(written.imagePieces[0]!.encoded));
  await refused(t, call("/chunk", { digest: archiveChunk }), { status: 403 });
  await call("/download", { "file-name": CONFIG }); // a blob registers nothing
  await refused(t, call("/chunk", { digest: archiveChunk }), { status: 403 });
});

test("the reader refuses names that are not archive names and files the snapshot lacks", async (t) => {
  const { call } = await finishedSnapshot(t);
  for (const name of ["../index.json.blob", "..%2Findex.json.blob", "owner", "/etc/passwd.blob"]) {
    await refused(t, call("/download", { "file-name": name }), {
      status: 400,
      message: /file-name: /,
    });
  }
  await refused(t, call("/download", { "file-name": "missing.blob" }), {
    status: 404,
    message: /has no file missing\.blob/,
  });
  await refused(t, call("/chunk", { digest: "XYZ" }), { status: 400, message: /digest: / });
});

test("speedtest sends 1 MiB of 'A'", async (t) => {
  const { call } = await finishedSnapshot(t);
  t.true((await call("/speedtest")).equals(Buffer.alloc(1024 * 1024, 0x41)));
});

test("the snapshot stays shared-locked until the session closes", async (t) => {
  const { store, session } = await finishedSnapshot(t);
  const err = await t.throwsAsync(store.deleteSnapshot(REF));
  t.true(isDatastoreError(err, "lock-busy"), String(err));
  t.deepEqual(await session.close(), { ok: true, message: "reader finished" });
  await store.deleteSnapshot(REF);
  await refused(t, session.handle({ method: "GET", path: "/speedtest" }), {
    status: 400,
    message: /reader session is closed/,
  });
});
