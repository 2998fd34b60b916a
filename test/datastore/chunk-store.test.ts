import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import test, { type ExecutionContext } from "ava";
import { type ChunkFile, ChunkStore } from "../../appliance/datastore/chunk-store.js";
import { encodeBlob } from "../../appliance/format/blob.js";
import { decodeChunk, encodeChunk } from "../../appliance/format/chunk.js";
import { CryptConfig } from "../../appliance/format/crypt-config.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";

const DAY_MS = 24 * 3600 * 1000;
const crypt = new CryptConfig(Buffer.alloc(32, 9));

async function tempStore(t: ExecutionContext, preallocate = false): Promise<ChunkStore> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-chunks-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return ChunkStore.create(dir, { preallocate });
}

/** A compressible chunk of `size` bytes; the same seed gives the same chunk. */
function chunkOf(seed: string, size = 10_000) {
  const data = Buffer.concat([pseudoRandomBuffer(size / 2, seed), Buffer.alloc(size / 2, 1)]);
  const { digest, encoded } = encodeChunk(data);
  return { data, digest: digest.toString("hex"), encoded };
}

async function collect(files: AsyncIterable<ChunkFile>): Promise<ChunkFile[]> {
  const all: ChunkFile[] = [];
  for await (const file of files) all.push(file);
  return all;
}

test("insert stores the chunk under .chunks/<prefix>/<digest>; read returns it", async (t) => {
  const store = await tempStore(t);
  const chunk = chunkOf("a");
  t.deepEqual(await store.insert(chunk.digest, chunk.encoded, { expectedSize: 10_000 }), {
    duplicate: false,
    encodedSize: chunk.encoded.length,
  });
  const path = join(store.root, ".chunks", chunk.digest.slice(0, 4), chunk.digest);
  t.is(store.pathOf(chunk.digest), path);
  t.deepEqual(readFileSync(path), chunk.encoded);
  t.deepEqual(await store.read(chunk.digest), chunk.encoded);
  t.true(await store.exists(chunk.digest));
  t.is((await store.stat(chunk.digest))?.size, chunk.encoded.length);
  t.deepEqual(readdirSync(join(path, "..")), [chunk.digest], "no temp file left");
});

test("a second insert is a duplicate that refreshes the atime and keeps the mtime", async (t) => {
  const store = await tempStore(t);
  const chunk = chunkOf("b");
  await store.insert(chunk.digest, chunk.encoded);
  const path = store.pathOf(chunk.digest);
  const past = (Date.now() - 3 * DAY_MS) / 1000;
  utimesSync(path, past, past);
  const before = Date.now();
  t.deepEqual(await store.insert(chunk.digest, chunk.encoded), {
    duplicate: true,
    encodedSize: chunk.encoded.length,
  });
  const after = statSync(path);
  t.true(after.atimeMs >= before - 1000, "atime is now");
  t.is(Math.round(after.mtimeMs / 1000), Math.round(past), "mtime untouched");
});

test("touch sets atime to now and keeps mtime; false for an absent chunk", async (t) => {
  const store = await tempStore(t);
  const chunk = chunkOf("c");
  await store.insert(chunk.digest, chunk.encoded);
  const past = (Date.now() - DAY_MS) / 1000;
  utimesSync(store.pathOf(chunk.digest), past, past);
  t.true(await store.touch(chunk.digest));
  const stat = await store.stat(chunk.digest);
  t.true(stat!.atimeMs > Date.now() - 5000);
  t.is(Math.round(stat!.mtimeMs / 1000), Math.round(past));
  t.false(await store.touch(chunkOf("absent").digest));
});

test("reading an absent chunk is a chunk-missing error naming the digest", async (t) => {
  const store = await tempStore(t);
  const { digest } = chunkOf("nothing");
  const err = await t.throwsAsync(() => store.read(digest), {
    code: "CAIRN_E_DATASTORE_CHUNK_MISSING",
  });
  t.regex(err!.message, new RegExp(digest));
  t.false(await store.exists(digest));
  t.is(await store.stat(digest), undefined);
});

test("a malformed digest is refused before anything touches the disk", async (t) => {
  const store = await tempStore(t);
  const { encoded } = chunkOf("d");
  await t.throwsAsync(() => store.insert("ABC", encoded), { code: "CAIRN_E_DATASTORE_BAD_DIGEST" });
  await t.throwsAsync(() => store.read("../../etc/passwd"), {
    code: "CAIRN_E_DATASTORE_BAD_DIGEST",
  });
});

test("an unencrypted chunk whose bytes do not match its digest or size is refused", async (t) => {
  const store = await tempStore(t);
  const chunk = chunkOf("e");
  const other = chunkOf("f");
  await t.throwsAsync(() => store.insert(other.digest, chunk.encoded), {
    code: "CAIRN_E_FORMAT_DIGEST_MISMATCH",
  });
  await t.throwsAsync(() => store.insert(chunk.digest, chunk.encoded, { expectedSize: 10_001 }), {
    code: "CAIRN_E_FORMAT_BAD_LAYOUT",
    message: /decodes to 10000 bytes, announced 10001/,
  });
  await t.throwsAsync(() => store.insert(chunk.digest, chunk.encoded, { expectedSize: 9_999 }), {
    code: "CAIRN_E_FORMAT_OVERSIZE",
  });
  const flipped = Buffer.from(chunk.encoded);
  flipped[flipped.length - 1]! ^= 1;
  await t.throwsAsync(() => store.insert(chunk.digest, flipped), {
    code: "CAIRN_E_FORMAT_CRC_MISMATCH",
  });
  t.false(await store.exists(chunk.digest));
  t.false(await store.exists(other.digest));
});

test("an encrypted chunk is checked by its CRC only", async (t) => {
  const store = await tempStore(t);
  const { digest, encoded } = encodeChunk(pseudoRandomBuffer(5000, "enc"), { crypt });
  const hex = digest.toString("hex");
  const bad = Buffer.from(encoded);
  bad[bad.length - 1]! ^= 1;
  await t.throwsAsync(() => store.insert(hex, bad), { code: "CAIRN_E_FORMAT_CRC_MISMATCH" });
  t.false(await store.exists(hex));
  t.false((await store.insert(hex, encoded)).duplicate);
  t.deepEqual(
    decodeChunk(await store.read(hex), digest, { crypt }),
    pseudoRandomBuffer(5000, "enc"),
  );
});

test("an existing empty file is overwritten", async (t) => {
  const store = await tempStore(t);
  const chunk = chunkOf("g");
  const path = store.pathOf(chunk.digest);
  await store.insert(chunk.digest, chunk.encoded);
  writeFileSync(path, "");
  t.false((await store.insert(chunk.digest, chunk.encoded)).duplicate);
  t.deepEqual(readFileSync(path), chunk.encoded);
});

test("of two valid unencrypted copies of another size, the smaller one is kept", async (t) => {
  const store = await tempStore(t);
  const chunk = chunkOf("h");
  const uncompressed = encodeBlob(chunk.data, { compress: false });
  t.true(uncompressed.length > chunk.encoded.length);

  await store.insert(chunk.digest, uncompressed);
  t.deepEqual(await store.insert(chunk.digest, chunk.encoded), {
    duplicate: false,
    encodedSize: chunk.encoded.length,
  });
  t.deepEqual(await store.read(chunk.digest), chunk.encoded, "the bigger copy was replaced");

  t.deepEqual(await store.insert(chunk.digest, uncompressed), {
    duplicate: true,
    encodedSize: chunk.encoded.length,
  });
  t.deepEqual(await store.read(chunk.digest), chunk.encoded, "the smaller copy stays");
});

test("an encrypted chunk never replaces an unencrypted one, nor the reverse", async (t) => {
  const store = await tempStore(t);
  const plain = chunkOf("i");
  const encrypted = encodeChunk(pseudoRandomBuffer(3000, "other"), { crypt }).encoded;
  await store.insert(plain.digest, plain.encoded);
  // the server cannot check an encrypted chunk's digest, so a client can claim any digest
  await t.throwsAsync(() => store.insert(plain.digest, encrypted), {
    code: "CAIRN_E_DATASTORE_CHUNK_CONFLICT",
  });
  t.deepEqual(await store.read(plain.digest), plain.encoded);

  const victim = chunkOf("j");
  mkdirSync(join(store.pathOf(victim.digest), ".."), { recursive: true });
  writeFileSync(store.pathOf(victim.digest), encrypted);
  await t.throwsAsync(() => store.insert(victim.digest, victim.encoded), {
    code: "CAIRN_E_DATASTORE_CHUNK_CONFLICT",
  });
  t.deepEqual(await store.read(victim.digest), encrypted);
});

test("encrypted copies of another size: uncompressed ones conflict, compressed ones keep the first", async (t) => {
  const store = await tempStore(t);
  const data = Buffer.alloc(8000, 5);
  const { digest, encoded: compressed } = encodeChunk(data, { crypt });
  const hex = digest.toString("hex");
  const uncompressed = encodeBlob(data, { crypt, compress: false });
  await store.insert(hex, compressed);
  t.deepEqual(await store.insert(hex, uncompressed), {
    duplicate: true,
    encodedSize: compressed.length,
  });
  t.deepEqual(await store.read(hex), compressed);

  const other = encodeChunk(pseudoRandomBuffer(4000, "k"), { crypt });
  const otherHex = other.digest.toString("hex");
  await store.insert(
    otherHex,
    encodeBlob(pseudoRandomBuffer(4000, "k"), { crypt, compress: false }),
  );
  const shorter = encodeBlob(pseudoRandomBuffer(3000, "k"), { crypt, compress: false });
  await t.throwsAsync(() => store.insert(otherHex, shorter), {
    code: "CAIRN_E_DATASTORE_CHUNK_CONFLICT",
  });
});

test("concurrent inserts of one digest write it once", async (t) => {
  const store = await tempStore(t);
  const chunk = chunkOf("l", 200_000);
  const results = await Promise.all(
    Array.from({ length: 16 }, () => store.insert(chunk.digest, chunk.encoded)),
  );
  t.is(results.filter((r) => !r.duplicate).length, 1);
  t.true(results.every((r) => r.encodedSize === chunk.encoded.length));
  t.deepEqual(await store.read(chunk.digest), chunk.encoded);
  t.deepEqual(readdirSync(join(store.pathOf(chunk.digest), "..")), [chunk.digest]);
});

test("processes inserting the same chunks at once leave one valid copy of each", async (t) => {
  const store = await tempStore(t);
  const module = pathToFileURL(
    fileURLToPath(new URL("../../appliance/datastore/chunk-store.ts", import.meta.url)),
  ).href;
  const chunkModule = pathToFileURL(
    fileURLToPath(new URL("../../appliance/format/chunk.ts", import.meta.url)),
  ).href;
  const code = `
    const { ChunkStore } = await import(${JSON.stringify(module)});
    const { encodeChunk } = await import(${JSON.stringify(chunkModule)});
    const store = await ChunkStore.open(${JSON.stringify(store.root)});
    const chunks = Array.from({ length: 300 }, (_, i) => encodeChunk(Buffer.alloc(3000 + i, i % 251)));
    await Promise.all(chunks.map((c) => store.insert(c.digest.toString("hex"), c.encoded)));
  `;
  const children = Array.from({ length: 3 }, () =>
    spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      stdio: ["ignore", "inherit", "inherit"],
    }),
  );
  const codes = await Promise.all(children.map(async (child) => (await once(child, "exit"))[0]));
  t.deepEqual(codes, [0, 0, 0]);
  const files = await collect(store.chunkFiles({ includeLeftovers: true }));
  t.is(files.length, 300, "no duplicates, no temp files");
  for (const file of files) {
    decodeChunk(readFileSync(file.path), Buffer.from(file.digest, "hex"));
  }
  t.pass();
});

test("create preallocates all 65,536 prefix directories by default", async (t) => {
  const store = await tempStore(t, true);
  const dirs = readdirSync(store.chunkDir);
  t.is(dirs.length, 65_536);
  t.true(dirs.includes("0000") && dirs.includes("ffff") && dirs.includes("a3f0"));
});

test("open refuses a directory without a chunk store", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-empty-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.throwsAsync(() => ChunkStore.open(dir), { code: "CAIRN_E_DATASTORE_NOT_A_DATASTORE" });
  await ChunkStore.create(dir, { preallocate: false });
  t.is((await ChunkStore.open(dir, { syncLevel: "file" })).syncLevel, "file");
});

test("sync level file stores chunks just the same", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-sync-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await ChunkStore.create(dir, { preallocate: false, syncLevel: "file" });
  const chunk = chunkOf("m");
  await store.insert(chunk.digest, chunk.encoded);
  t.deepEqual(await store.read(chunk.digest), chunk.encoded);
});

test("chunkFiles lists chunks and .bad copies in digest order and skips other names", async (t) => {
  const store = await tempStore(t);
  const chunks = ["n", "o", "p", "q"].map((seed) => chunkOf(seed));
  for (const chunk of chunks) await store.insert(chunk.digest, chunk.encoded);
  const [first, second] = chunks;
  await store.markBad(first!.digest);
  const dir = join(store.pathOf(second!.digest), "..");
  writeFileSync(join(dir, `${second!.digest}.tmp_abc123`), "partial");
  writeFileSync(join(dir, "README"), "not a chunk");
  writeFileSync(join(dir, `${second!.digest.toUpperCase()}`), "not lowercase hex");

  const files = await collect(store.chunkFiles());
  const expected = chunks.map((c) => c.digest).sort();
  t.deepEqual(
    files.map((f) => f.digest),
    expected,
  );
  const bad = files.find((f) => f.digest === first!.digest)!;
  t.is(bad.bad, 0);
  t.true(bad.path.endsWith(`${first!.digest}.0.bad`));
  const good = files.find((f) => f.digest === second!.digest)!;
  t.is(good.bad, undefined);
  t.is(good.size, second!.encoded.length);
  t.true(good.atimeMs > Date.now() - 60_000);

  const withLeftovers = await collect(store.chunkFiles({ includeLeftovers: true }));
  t.deepEqual(
    withLeftovers.filter((f) => f.leftover).map((f) => [f.digest, f.leftover]),
    [[second!.digest, "temp"]],
  );
});

test("markBad renames to the first free .N.bad and overwrites .9.bad when all are taken", async (t) => {
  const store = await tempStore(t);
  const chunk = chunkOf("r");
  const path = store.pathOf(chunk.digest);
  for (let n = 0; n < 10; n++) {
    await store.insert(chunk.digest, chunk.encoded);
    t.is(await store.markBad(chunk.digest), `${path}.${n}.bad`);
    t.false(await store.exists(chunk.digest));
  }
  writeFileSync(path, "eleventh");
  t.is(await store.markBad(chunk.digest), `${path}.9.bad`);
  t.is(readFileSync(`${path}.9.bad`, "utf8"), "eleventh");
  t.is(readdirSync(join(path, "..")).length, 10);
  await t.throwsAsync(() => store.markBad(chunk.digest), {
    code: "CAIRN_E_DATASTORE_CHUNK_MISSING",
  });
});

test("sweepFile removes an untouched old chunk but keeps one touched after it was listed", async (t) => {
  const store = await tempStore(t);
  const old = chunkOf("s");
  const reused = chunkOf("t");
  const past = (Date.now() - 2 * DAY_MS) / 1000;
  for (const chunk of [old, reused]) {
    await store.insert(chunk.digest, chunk.encoded);
    utimesSync(store.pathOf(chunk.digest), past, past);
  }
  const files = await collect(store.chunkFiles());
  t.true(
    files.every((f) => f.atimeMs < Date.now() - DAY_MS),
    "listed as old",
  );

  t.true((await store.insert(reused.digest, reused.encoded)).duplicate); // a backup reuses it now
  const cutoff = Date.now() - DAY_MS;
  const outcome = (digest: string) =>
    store.sweepFile(files.find((f) => f.digest === digest)!, cutoff);
  t.is(outcome(old.digest), "removed");
  t.is(outcome(reused.digest), "kept");
  t.is(outcome(old.digest), "vanished");
  t.false(await store.exists(old.digest));
  t.deepEqual(await store.read(reused.digest), reused.encoded);
  t.is(
    (await collect(store.chunkFiles({ includeLeftovers: true }))).length,
    1,
    "nothing left aside",
  );
});
