import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import {
  DEFAULT_FIXED_CHUNK_SIZE,
  FixedIndexReader,
  FixedIndexWriter,
} from "../../appliance/format/fixed-index.js";
import {
  ENTRY_BATCH_BYTES,
  INDEX_HEADER_SIZE,
  MemoryPositionalFile,
  type PositionalWriter,
} from "../../appliance/format/index-file.js";
import { MAGIC } from "../../appliance/format/magic.js";
import { loadVectors } from "../helpers/vectors.js";

const vectors = loadVectors();
const UUID = Buffer.from("00112233445566778899aabbccddeeff", "hex");
const CTIME = 1_700_000_000;

/** Digest number `i` of a test image: SHA-256 of its le32 index and a tag. */
function digestOf(i: number, tag = "a"): Buffer {
  const counter = Buffer.alloc(4);
  counter.writeUInt32LE(i);
  return createHash("sha256").update(tag).update(counter).digest();
}

/** A memory file that remembers its largest single write. */
class RecordingFile extends MemoryPositionalFile {
  largestWrite = 0;

  override write(buffer: Uint8Array, offset: number, length: number, position: number) {
    this.largestWrite = Math.max(this.largestWrite, length);
    return super.write(buffer, offset, length, position);
  }
}

async function buildIndex(digests: Buffer[], size: number, chunkSize: number): Promise<Buffer> {
  const file = new MemoryPositionalFile();
  const writer = await FixedIndexWriter.create(file, { size, chunkSize, uuid: UUID, ctime: CTIME });
  for (const digest of digests) await writer.append(digest);
  await writer.close();
  return file.bytes();
}

test("checksum of one chunk matches the derived vector and the header is laid out as in §3", async (t) => {
  const file = new MemoryPositionalFile();
  const writer = await FixedIndexWriter.create(file, { size: 5, uuid: UUID, ctime: CTIME });
  await writer.append(createHash("sha256").update("hello").digest());
  const closed = await writer.close();

  t.is(closed.csum.toString("hex"), vectors.derived["fidx_index_csum([sha256('hello')])"]);
  t.deepEqual({ size: closed.size, chunkCount: closed.chunkCount }, { size: 5, chunkCount: 1 });
  const bytes = file.bytes();
  t.is(bytes.length, INDEX_HEADER_SIZE + 32);
  t.deepEqual(bytes.subarray(0, 8), MAGIC.fixedIndex);
  t.deepEqual(bytes.subarray(8, 24), UUID);
  t.is(bytes.readBigInt64LE(24), BigInt(CTIME));
  t.deepEqual(bytes.subarray(32, 64), closed.csum);
  t.is(bytes.readBigUInt64LE(64), 5n);
  t.is(bytes.readBigUInt64LE(72), BigInt(DEFAULT_FIXED_CHUNK_SIZE));
  t.true(bytes.subarray(80, INDEX_HEADER_SIZE).every((byte) => byte === 0));
});

test("a written index reads back with its header, digests and chunk ranges", async (t) => {
  const digests = [0, 1, 2, 3].map((i) => digestOf(i));
  const reader = FixedIndexReader.parse(await buildIndex(digests, 3 * 4096 + 100, 4096));

  t.deepEqual(reader.uuid, UUID);
  t.is(reader.ctime, CTIME);
  t.is(reader.size, 3 * 4096 + 100);
  t.is(reader.chunkSize, 4096);
  t.is(reader.count, 4);
  t.deepEqual(
    [0, 1, 2, 3].map((i) => reader.digest(i)),
    digests,
  );
  t.deepEqual(reader.chunkRange(0), { start: 0, end: 4096 });
  t.deepEqual(reader.chunkRange(3), { start: 3 * 4096, end: 3 * 4096 + 100 });
  t.deepEqual(reader.verify(), {
    csum: createHash("sha256").update(Buffer.concat(digests)).digest(),
    size: 3 * 4096 + 100,
  });
  t.throws(() => reader.digest(4), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
  t.throws(() => reader.chunkRange(-1), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
});

test("300,000 entries stream through a bounded buffer and checksum like the whole list", async (t) => {
  const count = 300_000;
  const chunkSize = 4096;
  const size = count * chunkSize - 1000;
  const file = new RecordingFile();
  const writer = await FixedIndexWriter.create(file, { size, chunkSize });
  const reference = createHash("sha256");
  let peakBuffered = 0;
  for (let i = 0; i < count; i++) {
    const digest = digestOf(i);
    reference.update(digest);
    await writer.append(digest);
    peakBuffered = Math.max(peakBuffered, writer.bufferedBytes);
  }

  t.true(peakBuffered <= ENTRY_BATCH_BYTES, `peak ${peakBuffered}`);
  t.true(file.largestWrite <= Math.max(INDEX_HEADER_SIZE, ENTRY_BATCH_BYTES));
  // everything but the last partial batch reached the file before close
  t.true(file.length >= INDEX_HEADER_SIZE + count * 32 - ENTRY_BATCH_BYTES);
  const closed = await writer.close();
  t.deepEqual(closed, { csum: reference.digest(), size, chunkCount: count });
  const reader = FixedIndexReader.parse(file.bytes());
  t.deepEqual(reader.verify(), { csum: closed.csum, size });
  t.deepEqual(reader.digest(123_456), digestOf(123_456));
});

test("chunkIndexAt agrees with a linear scan of the chunk ranges", async (t) => {
  const chunkSize = 1024;
  const count = 500;
  const size = count * chunkSize - 77;
  const digests = Array.from({ length: count }, (_, i) => digestOf(i));
  const reader = FixedIndexReader.parse(await buildIndex(digests, size, chunkSize));
  const bruteForce = (offset: number): number | undefined => {
    for (let i = 0; i < reader.count; i++) {
      const { start, end } = reader.chunkRange(i);
      if (start <= offset && offset < end) return i;
    }
    return undefined;
  };
  let seed = 12345;
  const offsets = [0, 1, chunkSize - 1, chunkSize, size - 1, size, size + 5, -1];
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    offsets.push(seed % (size + 100));
  }
  for (const offset of offsets) t.is(reader.chunkIndexAt(offset), bruteForce(offset), `${offset}`);
  t.is(reader.chunkIndexAt(0.5), undefined);
});

test("a changed entry or stored checksum fails verification", async (t) => {
  const bytes = await buildIndex([digestOf(0), digestOf(1)], 8192, 4096);
  const entryFlipped = Buffer.from(bytes);
  entryFlipped[INDEX_HEADER_SIZE + 40]! ^= 1;
  t.throws(() => FixedIndexReader.parse(entryFlipped).verify(), {
    code: "CAIRN_E_FORMAT_CHECKSUM_MISMATCH",
  });
  const csumFlipped = Buffer.from(bytes);
  csumFlipped[33]! ^= 1;
  t.throws(() => FixedIndexReader.parse(csumFlipped).verify(), {
    code: "CAIRN_E_FORMAT_CHECKSUM_MISMATCH",
  });
  t.notThrows(() => FixedIndexReader.parse(bytes).verify());
});

test("files of the wrong length, magic or chunk size are rejected by name", async (t) => {
  const bytes = await buildIndex([digestOf(0), digestOf(1)], 8000, 4096);
  t.throws(() => FixedIndexReader.parse(bytes.subarray(0, bytes.length - 1)), {
    code: "CAIRN_E_FORMAT_TRUNCATED",
    message: /needs 64/,
  });
  t.throws(() => FixedIndexReader.parse(Buffer.concat([bytes, digestOf(2)])), {
    code: "CAIRN_E_FORMAT_BAD_LAYOUT",
    message: /96 bytes of entries/,
  });
  t.throws(() => FixedIndexReader.parse(bytes.subarray(0, 100)), {
    code: "CAIRN_E_FORMAT_TRUNCATED",
  });
  const wrongMagic = Buffer.from(bytes);
  MAGIC.dynamicIndex.copy(wrongMagic, 0);
  t.throws(() => FixedIndexReader.parse(wrongMagic), { code: "CAIRN_E_FORMAT_BAD_MAGIC" });
  for (const chunkSize of [0n, 3000n, 4097n]) {
    const badChunkSize = Buffer.from(bytes);
    badChunkSize.writeBigUInt64LE(chunkSize, 72);
    t.throws(() => FixedIndexReader.parse(badChunkSize), {
      code: "CAIRN_E_FORMAT_BAD_LAYOUT",
      message: /not a power of two/,
    });
  }
  const hugeSize = Buffer.from(bytes);
  hugeSize.writeBigUInt64LE(2n ** 60n, 64);
  t.throws(() => FixedIndexReader.parse(hugeSize), { code: "CAIRN_E_FORMAT_BAD_LAYOUT" });
});

test("prefill plus positional set checksums like writing the final digests in order", async (t) => {
  const count = 5000; // several 64 KiB batches, so some replaced entries are on file already
  const chunkSize = 4096;
  const size = count * chunkSize;
  const previous = Array.from({ length: count }, (_, i) => digestOf(i, "old"));
  const changed = new Set([0, 1, 2047, 2048, 3000, count - 1]);
  const final = previous.map((digest, i) => (changed.has(i) ? digestOf(i, "new") : digest));

  const sequential = await buildIndex(final, size, chunkSize);
  const file = new MemoryPositionalFile();
  const writer = await FixedIndexWriter.create(file, { size, chunkSize, uuid: UUID, ctime: CTIME });
  await writer.prefillFrom(FixedIndexReader.parse(await buildIndex(previous, size, chunkSize)));
  for (const i of changed) await writer.set(i, final[i]!);
  const closed = await writer.close();

  t.deepEqual(file.bytes(), sequential);
  t.deepEqual(closed, { csum: FixedIndexReader.parse(sequential).csum, size, chunkCount: count });
});

test("a batched entry can be replaced without read-back; a written one needs a readable file", async (t) => {
  const memory = new MemoryPositionalFile();
  const writeOnly: PositionalWriter = { write: (...args) => memory.write(...args) };
  const writer = await FixedIndexWriter.create(writeOnly, { size: 3 * 4096, chunkSize: 4096 });
  await writer.append(digestOf(0));
  await writer.append(digestOf(1));
  await writer.set(0, digestOf(9));
  await writer.append(digestOf(2));
  const closed = await writer.close();
  const expected = createHash("sha256")
    .update(Buffer.concat([digestOf(9), digestOf(1), digestOf(2)]))
    .digest();
  t.deepEqual(closed.csum, expected);
  t.notThrows(() => FixedIndexReader.parse(memory.bytes()).verify());

  const other = new MemoryPositionalFile();
  const many = await FixedIndexWriter.create(
    { write: (...args) => other.write(...args) },
    { size: 4096 * 4096, chunkSize: 4096 },
  );
  for (let i = 0; i < 2048; i++) await many.append(digestOf(i)); // exactly one batch, flushed
  await t.throwsAsync(many.set(0, digestOf(7)), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    message: /read back/,
  });
  await many.append(digestOf(2048)); // the refusal changed nothing
  t.is(many.count, 2049);
});

test("writer arguments are checked and a refused call leaves the writer usable", async (t) => {
  const file = new MemoryPositionalFile();
  await t.throwsAsync(FixedIndexWriter.create(file, { size: 10, chunkSize: 3000 }), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
  await t.throwsAsync(FixedIndexWriter.create(file, { size: -1 }), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
  await t.throwsAsync(FixedIndexWriter.create(file, { size: 1, uuid: Buffer.alloc(15) }), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });

  const writer = await FixedIndexWriter.create(file, { size: 8192, chunkSize: 4096 });
  await t.throwsAsync(writer.append(Buffer.alloc(31)), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
  await writer.append(digestOf(0));
  await t.throwsAsync(writer.set(1, digestOf(1)), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
  await t.throwsAsync(writer.close(), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    message: /1 of its 2 entries/,
  });
  await writer.append(digestOf(1));
  await t.throwsAsync(writer.append(digestOf(2)), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    message: /full at 2 entries/,
  });
  const first = writer.close();
  await t.throwsAsync(writer.append(digestOf(2)), { message: /busy/ });
  t.is((await first).chunkCount, 2);
  await t.throwsAsync(writer.close(), { message: /already closed/ });
});

test("short writes are continued and a stalled file is an error", async (t) => {
  const memory = new MemoryPositionalFile();
  const trickle: PositionalWriter = {
    write: (buffer, offset, length, position) =>
      memory.write(buffer, offset, Math.min(length, 1000), position),
  };
  const writer = await FixedIndexWriter.create(trickle, { size: 4096 * 3000, chunkSize: 4096 });
  for (let i = 0; i < 3000; i++) await writer.append(digestOf(i));
  await writer.close();
  t.is(FixedIndexReader.parse(memory.bytes()).verify().size, 4096 * 3000);

  const stalled: PositionalWriter = { write: async () => ({ bytesWritten: 0 }) };
  await t.throwsAsync(FixedIndexWriter.create(stalled, { size: 1 }), {
    code: "CAIRN_E_IO_SHORT_WRITE",
  });
});

test("a Node FileHandle serves as the positional file, read-back included", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "cairn-fidx-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "disk.img.tmp_fidx");
  const handle = await open(path, "w+");
  const count = 3000;
  const writer = await FixedIndexWriter.create(handle, { size: count * 4096, chunkSize: 4096 });
  for (let i = 0; i < count; i++) await writer.append(digestOf(i));
  await writer.set(5, digestOf(5, "new"));
  const closed = await writer.close();
  await handle.close();

  const reader = FixedIndexReader.parse(await readFile(path));
  t.deepEqual(reader.verify().csum, closed.csum);
  t.deepEqual(reader.digest(5), digestOf(5, "new"));
});
