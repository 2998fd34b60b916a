import { existsSync } from "node:fs";
import test, { type ExecutionContext } from "ava";
import { encodeBlob } from "../../appliance/format/blob.js";
import { encodeChunk } from "../../appliance/format/chunk.js";
import type { SessionClient } from "./fixtures/backup-flow.js";
import { ARCHIVE, CONFIG, IMAGE, MANIFEST } from "./fixtures/backup-flow.js";
import {
  cutDynamic,
  cutFixed,
  dynamicCsum,
  FIXED_CHUNK,
  fixedCsum,
  MiB,
  manifestBlob,
  type Piece,
  sampleContent,
  sha256Hex,
} from "./fixtures/content.js";
import { openBackup, refused, T0, tempStore } from "./fixtures/sessions.js";

/** What every refused call must leave behind: the session open and answering. */
async function stillUsable(t: ExecutionContext, client: SessionClient): Promise<void> {
  t.is(client.session.state, "open");
  t.true(
    Number.isInteger(
      await client.createDynamicIndex(`usable-${Math.random().toString(36).slice(2)}.didx`),
    ),
  );
}

async function setup(t: ExecutionContext) {
  const store = await tempStore(t);
  const opened = await openBackup(t, store);
  return { store, ...opened };
}

/** A 10 MiB image: chunks of 4, 4 and 2 MiB. */
const IMAGE_SIZE = 10 * MiB;
const imagePieces = cutFixed(sampleContent("refusals", IMAGE_SIZE).image);

function chunkQuery(wid: number, piece: Piece) {
  return { wid, digest: piece.digest, size: piece.size, "encoded-size": piece.encoded.length };
}

test("chunk uploads to a writer that does not exist or is of the other kind are refused", async (t) => {
  const { client } = await setup(t);
  const [piece] = cutDynamic(Buffer.from("data"), [4]);
  await refused(t, client.uploadChunk("fixed", 7, piece!), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_BAD_WRITER",
    message: /no open fixed writer with id 7/,
  });
  for (const wid of [0, 257]) {
    await refused(t, client.uploadChunk("fixed", wid, piece!), {
      status: 400,
      code: "CAIRN_E_PROTOCOL_BAD_PARAMETER",
      message: /wid: must be a whole number from 1 to 256/,
    });
  }
  const fixed = await client.createFixedIndex(IMAGE, IMAGE_SIZE);
  await refused(t, client.uploadChunk("dynamic", fixed, piece!), {
    status: 400,
    message: new RegExp(`no open dynamic writer with id ${fixed}`),
  });
  await stillUsable(t, client);
});

test("a chunk whose data does not match its digest or announced size is refused", async (t) => {
  const { client, store } = await setup(t);
  const wid = await client.createDynamicIndex(ARCHIVE);
  const real = encodeChunk(Buffer.from("the real data"));
  const other = encodeChunk(Buffer.from("other data"));
  await refused(
    t,
    client.uploadChunk("dynamic", wid, { digest: other.digest, size: 13, encoded: real.encoded }),
    { status: 400, code: "CAIRN_E_FORMAT_DIGEST_MISMATCH" },
  );
  await refused(
    t,
    client.uploadChunk("dynamic", wid, { digest: real.digest, size: 14, encoded: real.encoded }),
    { status: 400, message: /decodes to 13 bytes, announced 14/ },
  );
  t.false(await store.chunks.exists(other.digest.toString("hex")));
  t.false(await store.chunks.exists(real.digest.toString("hex")));
  // a refused upload is not known: appending it is refused too
  await refused(t, client.appendIndex("dynamic", wid, [{ digest: real.digest, offset: 0 }]), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_UNKNOWN_CHUNK",
  });
  await stillUsable(t, client);
});

test("size and encoded-size out of range are refused before the body is read", async (t) => {
  const { client } = await setup(t);
  const wid = await client.createDynamicIndex(ARCHIVE);
  const [piece] = cutDynamic(Buffer.from("abc"), [3]);
  const cases: [Record<string, number>, RegExp][] = [
    [{ size: 0 }, /size: must be a whole number from 1 to 16777216/],
    [{ size: 16 * MiB + 1 }, /size: must be a whole number from 1 to 16777216/],
    [{ "encoded-size": 12 }, /encoded-size: must be a whole number from 13 to 16777260/],
    [{ "encoded-size": 16 * MiB + 45 }, /encoded-size: must be a whole number from 13/],
  ];
  for (const [change, message] of cases) {
    await refused(
      t,
      client.call({
        method: "POST",
        path: "/dynamic_chunk",
        query: { ...chunkQuery(wid, piece!), ...change },
        body: piece!.encoded,
      }),
      { status: 400, code: "CAIRN_E_PROTOCOL_BAD_PARAMETER", message },
    );
  }
  await stillUsable(t, client);
});

test("a body longer or shorter than its encoded-size is refused", async (t) => {
  const { client } = await setup(t);
  const wid = await client.createDynamicIndex(ARCHIVE);
  const [piece] = cutDynamic(Buffer.from("some chunk data"), [15]);
  const declared = piece!.encoded.length;
  await refused(
    t,
    client.call({
      method: "POST",
      path: "/dynamic_chunk",
      query: { ...chunkQuery(wid, piece!), "encoded-size": declared + 5 },
      body: piece!.encoded,
    }),
    {
      status: 400,
      code: "CAIRN_E_PROTOCOL_BAD_BODY",
      message: new RegExp(`has ${declared} bytes, the declared encoded-size is ${declared + 5}`),
    },
  );
  await refused(
    t,
    client.call({
      method: "POST",
      path: "/dynamic_chunk",
      query: chunkQuery(wid, piece!),
      body: Buffer.concat([piece!.encoded, Buffer.alloc(1)]),
    }),
    { status: 400, message: new RegExp(`exceeds the declared encoded-size of ${declared} bytes`) },
  );
  await refused(
    t,
    client.call({
      method: "POST",
      path: "/blob",
      query: { "file-name": CONFIG, "encoded-size": 20 },
      body: Buffer.alloc(30),
    }),
    { status: 400, code: "CAIRN_E_PROTOCOL_BAD_BODY" },
  );
  await stillUsable(t, client);
});

test("fixed chunks larger than the chunk size, or a second short one, are refused", async (t) => {
  const { client } = await setup(t);
  const wid = await client.createFixedIndex(IMAGE, 3 * FIXED_CHUNK);
  const tooLarge = { digest: "00".repeat(32), size: FIXED_CHUNK + 1, encoded: Buffer.alloc(100) };
  await refused(
    t,
    client.call({
      method: "POST",
      path: "/fixed_chunk",
      query: { ...chunkQuery(wid, { ...tooLarge, offset: 0 }), "encoded-size": 100 },
      body: tooLarge.encoded,
    }),
    {
      status: 400,
      code: "CAIRN_E_PROTOCOL_BAD_CHUNK",
      message: /larger than the chunk size 4194304/,
    },
  );
  const [short1] = cutDynamic(Buffer.alloc(1000, 1), [1000]);
  const [short2] = cutDynamic(Buffer.alloc(1000, 2), [1000]);
  await client.uploadChunk("fixed", wid, short1!);
  await refused(t, client.uploadChunk("fixed", wid, short2!), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_BAD_CHUNK",
    message: /a second chunk shorter than the chunk size/,
  });
  await stillUsable(t, client);
});

test("appends of unknown digests or mismatched lists are refused and change nothing", async (t) => {
  const { client } = await setup(t);
  const wid = await client.createDynamicIndex(ARCHIVE);
  const pieces = cutDynamic(Buffer.alloc(300, 9).fill(3, 100), [100, 200]);
  await client.uploadChunk("dynamic", wid, pieces[0]!);
  await refused(t, client.appendIndex("dynamic", wid, pieces), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_UNKNOWN_CHUNK",
    message: new RegExp(`chunk ${pieces[1]!.digest} is unknown`),
  });
  await refused(
    t,
    client.call({
      method: "PUT",
      path: "/dynamic_index",
      contentType: "application/json",
      body: Buffer.from(
        JSON.stringify({ wid, "digest-list": [pieces[0]!.digest], "offset-list": [0, 100] }),
      ),
    }),
    { status: 400, message: /digest-list has 1 entries, offset-list 2/ },
  );
  // nothing of the refused batch was appended: the first chunk still goes at offset 0
  await client.appendIndex("dynamic", wid, [pieces[0]!]);
  await client.closeIndex("dynamic", wid, {
    chunkCount: 1,
    size: 100,
    csum: dynamicCsum([pieces[0]!]),
  });
  await stillUsable(t, client);
});

test("fixed appends must be aligned, full-length unless last, and inside the image", async (t) => {
  const { client } = await setup(t);
  const wid = await client.createFixedIndex(IMAGE, IMAGE_SIZE);
  for (const each of imagePieces) await client.uploadChunk("fixed", wid, each);
  const [first, second, last] = imagePieces;
  const cases: [Piece, RegExp][] = [
    [{ ...first!, offset: 1 }, /starts at 1, not a multiple of the chunk size 4194304/],
    [{ ...last!, offset: 0 }, /short but not the last one/],
    [{ ...second!, offset: 2 * FIXED_CHUNK }, /ends at 12582912, beyond the image size 10485760/],
  ];
  for (const [piece, message] of cases) {
    await refused(t, client.appendIndex("fixed", wid, [piece]), {
      status: 400,
      code: "CAIRN_E_PROTOCOL_BAD_OFFSET",
      message,
    });
  }
  await client.appendIndex("fixed", wid, imagePieces);
  const csum = fixedCsum(imagePieces.map((each) => each.digest));
  await client.closeIndex("fixed", wid, { chunkCount: 3, size: IMAGE_SIZE, csum });
  await stillUsable(t, client);
});

test("dynamic appends must continue where the index ends", async (t) => {
  const { client } = await setup(t);
  const wid = await client.createDynamicIndex(ARCHIVE);
  const pieces = cutDynamic(Buffer.alloc(300, 4).fill(5, 100), [100, 200]);
  for (const each of pieces) await client.uploadChunk("dynamic", wid, each);
  await refused(t, client.appendIndex("dynamic", wid, [pieces[1]!]), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_BAD_OFFSET",
    message: /appended at offset 100, expected 0/,
  });
  await client.appendIndex("dynamic", wid, [pieces[0]!]);
  await refused(t, client.appendIndex("dynamic", wid, [pieces[0]!]), {
    status: 400,
    message: /appended at offset 0, expected 100/,
  });
  await stillUsable(t, client);
});

test("a close with the wrong csum, count or size is refused, drops the writer and frees the name", async (t) => {
  const { client } = await setup(t);
  const pieces = cutDynamic(Buffer.alloc(300, 6).fill(7, 100), [100, 200]);
  const right = { chunkCount: 2, size: 300, csum: dynamicCsum(pieces) };
  const wrong: [Partial<typeof right>, RegExp][] = [
    [
      { csum: "cd".repeat(32) },
      new RegExp(`csum ${"cd".repeat(32)} does not match the index checksum ${right.csum}`),
    ],
    [{ chunkCount: 3 }, /chunk-count 3, but 2 were appended/],
    [{ size: 301 }, /size 301, but the chunks end at 300/],
  ];
  for (const [change, message] of wrong) {
    const wid = await client.createDynamicIndex(ARCHIVE);
    for (const each of pieces) await client.uploadChunk("dynamic", wid, each);
    await client.appendIndex("dynamic", wid, pieces);
    await refused(t, client.closeIndex("dynamic", wid, { ...right, ...change }), {
      status: 400,
      code: "CAIRN_E_PROTOCOL_CLOSE_MISMATCH",
      message,
    });
    await refused(t, client.appendIndex("dynamic", wid, pieces), {
      status: 400,
      code: "CAIRN_E_PROTOCOL_BAD_WRITER",
    });
  }
  const wid = await client.createDynamicIndex(ARCHIVE);
  await client.appendIndex("dynamic", wid, pieces);
  await client.closeIndex("dynamic", wid, right);
  await stillUsable(t, client);
});

test("a fixed close needs every chunk, the image's chunk count and size", async (t) => {
  const { client } = await setup(t);
  const csum = fixedCsum(imagePieces.map((each) => each.digest));
  const attempts: [Piece[], { chunkCount: number; size: number }, RegExp][] = [
    [
      [imagePieces[0]!, imagePieces[2]!],
      { chunkCount: 2, size: 4 * MiB + 2 * MiB },
      /the image has 3 chunks; no chunk was appended at offset 4194304/,
    ],
    [
      [imagePieces[1]!],
      { chunkCount: 1, size: 4 * MiB },
      /the image has 3 chunks; no chunk was appended at offset 0$/,
    ],
    [
      imagePieces,
      { chunkCount: 3, size: IMAGE_SIZE - 1 },
      /size 10485759, but the appended chunks hold 10485760 bytes/,
    ],
  ];
  for (const [pieces, figures, message] of attempts) {
    const wid = await client.createFixedIndex(IMAGE, IMAGE_SIZE);
    for (const each of pieces) await client.uploadChunk("fixed", wid, each);
    await client.appendIndex("fixed", wid, pieces);
    await refused(t, client.closeIndex("fixed", wid, { ...figures, csum }), {
      status: 400,
      code: "CAIRN_E_PROTOCOL_CLOSE_MISMATCH",
      message,
    });
  }
  await stillUsable(t, client);
});

test("finish without files, with open writers or without a manifest is refused; the session goes on", async (t) => {
  const { client, session } = await setup(t);
  await refused(t, client.finish(), { status: 400, message: /the backup contains no files/ });
  const config = encodeBlob(Buffer.from("cores: 2\n"));
  await client.uploadBlob(CONFIG, config);
  const wid = await client.createDynamicIndex(ARCHIVE);
  await refused(t, client.finish(), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_BAD_STATE",
    message: new RegExp(
      `writers still open: dynamic writer ${wid} \\(${ARCHIVE.replace(".", "\\.")}\\)`,
    ),
  });
  await client.closeIndex("dynamic", wid, { chunkCount: 0, size: 0, csum: dynamicCsum([]) });
  await refused(t, client.finish(), {
    status: 400,
    message: /no manifest - upload index\.json\.blob first/,
  });
  t.is(session.state, "open");
  const { encoded } = manifestBlob({ type: "vm", id: "100", time: T0 }, [
    { filename: CONFIG, size: config.length, csum: sha256Hex(config) },
    { filename: ARCHIVE, size: 0, csum: dynamicCsum([]) },
  ]);
  await client.uploadBlob(MANIFEST, encoded);
  await client.finish();
  t.is(session.state, "finished");
  await refused(t, client.uploadBlob("late.blob", config), {
    status: 400,
    message: /the backup session is finished/,
  });
});

test("a manifest that does not match the uploaded files aborts the backup at finish", async (t) => {
  const { client, session, store } = await setup(t);
  const config = encodeBlob(Buffer.from("cores: 2\n"));
  await client.uploadBlob(CONFIG, config);
  const { encoded } = manifestBlob({ type: "vm", id: "100", time: T0 }, [
    { filename: CONFIG, size: config.length, csum: "ef".repeat(32) },
  ]);
  await client.uploadBlob(MANIFEST, encoded);
  await refused(t, client.finish(), { status: 400, message: /lists qemu-server\.conf\.blob/ });
  t.is(session.state, "aborted");
  t.false(existsSync(store.snapshotDir(session.writer.ref)));
  await refused(t, client.previousBackupTime(), {
    status: 400,
    message: /aborted \(finish failed/,
  });
});

test("file names that are not plain archive names are refused", async (t) => {
  const { client } = await setup(t);
  const blob = encodeBlob(Buffer.from("x"));
  for (const name of ["../x.blob", "a/b.blob", ".hidden.blob", "x.txt", "x.fidx", "..", ""]) {
    await refused(t, client.uploadBlob(name, blob), {
      status: 400,
      code: "CAIRN_E_PROTOCOL_BAD_PARAMETER",
      message: /file-name: /,
    });
  }
  for (const name of ["../../etc.fidx", "a.didx", "%2e%2e.fidx"]) {
    await refused(t, client.createFixedIndex(name, 10), { status: 400, message: /archive-name: / });
  }
  await refused(t, client.createDynamicIndex("../up.didx"), { status: 400 });
  await refused(t, client.previous("../index.json.blob"), {
    status: 400,
    message: /archive-name: /,
  });
  await stillUsable(t, client);
});

test("a file name is used once per backup", async (t) => {
  const { client } = await setup(t);
  const blob = encodeBlob(Buffer.from("x"));
  await client.uploadBlob(CONFIG, blob);
  await refused(t, client.uploadBlob(CONFIG, blob), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_DUPLICATE_FILE",
    message: /qemu-server\.conf\.blob was already uploaded/,
  });
  await client.createDynamicIndex(ARCHIVE);
  await refused(t, client.createDynamicIndex(ARCHIVE), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_DUPLICATE_FILE",
  });
  await stillUsable(t, client);
});

test("blobs with a bad CRC and manifests that cannot be read are refused at upload", async (t) => {
  const { client } = await setup(t);
  const damaged = encodeBlob(Buffer.from("some config"));
  damaged[damaged.length - 1]! ^= 0xff;
  await refused(t, client.uploadBlob(CONFIG, damaged), {
    status: 400,
    code: "CAIRN_E_FORMAT_CRC_MISMATCH",
  });
  await refused(t, client.uploadBlob(MANIFEST, encodeBlob(Buffer.from("not json"))), {
    status: 400,
    code: "CAIRN_E_FORMAT_BAD_MANIFEST",
  });
  await stillUsable(t, client);
});

test("writer ids run out after 256 writers", async (t) => {
  const { client } = await setup(t);
  for (let i = 1; i <= 256; i++) t.is(await client.createDynamicIndex(`a${i}.didx`), i);
  await refused(t, client.createDynamicIndex("one-too-many.didx"), {
    status: 400,
    code: "CAIRN_E_PROTOCOL_BAD_WRITER",
    message: /at most 256 writers/,
  });
});

test("unknown calls, unknown parameters, oversized and ambiguous parameter bodies are refused", async (t) => {
  const { client } = await setup(t);
  await refused(t, client.call({ method: "POST", path: "/nothing" }), {
    status: 404,
    code: "CAIRN_E_PROTOCOL_UNKNOWN_CALL",
  });
  await refused(t, client.call({ method: "GET", path: "/finish" }), { status: 404 });
  await refused(
    t,
    client.call({
      method: "POST",
      path: "/dynamic_index",
      query: { "archive-name": ARCHIVE, extra: 1 },
    }),
    {
      status: 400,
      message: /extra: unknown parameter/,
    },
  );
  await refused(
    t,
    client.call({
      method: "PUT",
      path: "/dynamic_index",
      body: Buffer.alloc(64 * 1024, 0x20),
      contentType: "application/json",
    }),
    { status: 400, code: "CAIRN_E_PROTOCOL_BAD_BODY", message: /65535-byte limit/ },
  );
  await refused(
    t,
    client.call({
      method: "POST",
      path: "/dynamic_index",
      query: { "archive-name": ARCHIVE },
      body: Buffer.from(JSON.stringify({ "archive-name": "b.didx" })),
    }),
    { status: 400, message: /archive-name given in both query and body/ },
  );
  await refused(
    t,
    client.call({
      method: "POST",
      path: "/finish",
      body: Buffer.from("{"),
      contentType: "application/json",
    }),
    { status: 400, message: /not JSON/ },
  );
  await stillUsable(t, client);
});

test("speedtest drops whatever it is sent", async (t) => {
  const { client } = await setup(t);
  t.is(
    await client.call({ method: "POST", path: "/speedtest", body: Buffer.alloc(4 * MiB) }),
    null,
  );
  await stillUsable(t, client);
});
