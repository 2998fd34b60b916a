import { createHash } from "node:crypto";
import test from "ava";
import {
  DYNAMIC_ENTRY_SIZE,
  DynamicIndexReader,
  DynamicIndexWriter,
} from "../../appliance/format/dynamic-index.js";
import {
  ENTRY_BATCH_BYTES,
  INDEX_HEADER_SIZE,
  MemoryPositionalFile,
} from "../../appliance/format/index-file.js";
import { MAGIC } from "../../appliance/format/magic.js";
import { loadVectors } from "../helpers/vectors.js";

const vectors = loadVectors();
const UUID = Buffer.from("ffeeddccbbaa99887766554433221100", "hex");
const CTIME = 1_600_000_000;

function digestOf(i: number): Buffer {
  const counter = Buffer.alloc(4);
  counter.writeUInt32LE(i);
  return createHash("sha256").update(counter).digest();
}

/** Deterministic chunk lengths between 1 and 200,000 bytes. */
function chunkLengths(count: number, seed = 7): number[] {
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    lengths.push(1 + (seed % 200_000));
  }
  return lengths;
}

function cumulative(lengths: number[]): number[] {
  let end = 0;
  return lengths.map((length) => {
    end += length;
    return end;
  });
}

async function buildIndex(ends: number[]): Promise<Buffer> {
  const file = new MemoryPositionalFile();
  const writer = await DynamicIndexWriter.create(file, { uuid: UUID, ctime: CTIME });
  for (const [i, end] of ends.entries()) await writer.append(end, digestOf(i));
  await writer.close();
  return file.bytes();
}

test("checksum of one entry matches the derived vector and the header is laid out as in §3", async (t) => {
  const file = new MemoryPositionalFile();
  const writer = await DynamicIndexWriter.create(file, { uuid: UUID, ctime: CTIME });
  const hello = createHash("sha256").update("hello").digest();
  await writer.append(5, hello);
  const closed = await writer.close();

  t.is(closed.csum.toString("hex"), vectors.derived["didx_index_csum([(end=5, sha256('hello'))])"]);
  t.deepEqual({ size: closed.size, chunkCount: closed.chunkCount }, { size: 5, chunkCount: 1 });
  const bytes = file.bytes();
  t.is(bytes.length, INDEX_HEADER_SIZE + DYNAMIC_ENTRY_SIZE);
  t.deepEqual(bytes.subarray(0, 8), MAGIC.dynamicIndex);
  t.deepEqual(bytes.subarray(8, 24), UUID);
  t.is(bytes.readBigInt64LE(24), BigInt(CTIME));
  t.deepEqual(bytes.subarray(32, 64), closed.csum);
  t.true(bytes.subarray(64, INDEX_HEADER_SIZE).every((byte) => byte === 0));
  t.is(bytes.readBigUInt64LE(INDEX_HEADER_SIZE), 5n);
  t.deepEqual(bytes.subarray(INDEX_HEADER_SIZE + 8), hello);
});

test("a written index reads back with its header, digests and chunk ranges", async (t) => {
  const reader = DynamicIndexReader.parse(await buildIndex([10, 25, 26, 1000]));
  t.deepEqual(reader.uuid, UUID);
  t.is(reader.ctime, CTIME);
  t.is(reader.count, 4);
  t.is(reader.size, 1000);
  t.deepEqual(
    [0, 1, 2, 3].map((i) => reader.chunkRange(i)),
    [
      { start: 0, end: 10 },
      { start: 10, end: 25 },
      { start: 25, end: 26 },
      { start: 26, end: 1000 },
    ],
  );
  t.deepEqual(reader.digest(2), digestOf(2));
  t.deepEqual(reader.verify().size, 1000);
  t.throws(() => reader.digest(4), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
});

test("an empty index has size 0 and the checksum of no bytes", async (t) => {
  const reader = DynamicIndexReader.parse(await buildIndex([]));
  t.is(reader.count, 0);
  t.deepEqual(reader.verify(), { csum: createHash("sha256").digest(), size: 0 });
  t.is(reader.chunkIndexAt(0), undefined);
});

test("end offsets must strictly increase, and a refused append leaves the writer usable", async (t) => {
  const writer = await DynamicIndexWriter.create(new MemoryPositionalFile());
  await t.throwsAsync(writer.append(0, digestOf(0)), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
  await writer.append(100, digestOf(0));
  for (const bad of [100, 99, 100.5, Number.NaN, 2 ** 53]) {
    await t.throwsAsync(writer.append(bad, digestOf(1)), {
      code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
      message: /above the previous end 100/,
    });
  }
  await t.throwsAsync(writer.append(200, Buffer.alloc(33)), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
  await writer.append(200, digestOf(1));
  t.deepEqual(await writer.close(), { csum: expectedCsum([100, 200]), size: 200, chunkCount: 2 });
});

function expectedCsum(ends: number[]): Buffer {
  const hash = createHash("sha256");
  for (const [i, end] of ends.entries()) {
    const entry = Buffer.alloc(8);
    entry.writeBigUInt64LE(BigInt(end));
    hash.update(entry).update(digestOf(i));
  }
  return hash.digest();
}

test("300,000 entries stream through a bounded buffer and checksum like the whole list", async (t) => {
  const ends = cumulative(chunkLengths(300_000));
  const file = new MemoryPositionalFile();
  const writer = await DynamicIndexWriter.create(file);
  let peakBuffered = 0;
  for (const [i, end] of ends.entries()) {
    await writer.append(end, digestOf(i));
    peakBuffered = Math.max(peakBuffered, writer.bufferedBytes);
  }

  t.true(peakBuffered <= ENTRY_BATCH_BYTES, `peak ${peakBuffered}`);
  t.true(file.length >= INDEX_HEADER_SIZE + ends.length * DYNAMIC_ENTRY_SIZE - ENTRY_BATCH_BYTES);
  const closed = await writer.close();
  t.deepEqual(closed, { csum: expectedCsum(ends), size: ends.at(-1)!, chunkCount: ends.length });
  const reader = DynamicIndexReader.parse(file.bytes());
  t.deepEqual(reader.verify(), { csum: closed.csum, size: ends.at(-1)! });
  t.deepEqual(reader.chunkRange(200_000), { start: ends[199_999]!, end: ends[200_000]! });
});

test("chunkIndexAt agrees with a linear scan of the chunk ranges", async (t) => {
  const ends = cumulative(chunkLengths(300, 99).map((length) => 1 + (length % 5000)));
  const reader = DynamicIndexReader.parse(await buildIndex(ends));
  const size = reader.size;
  const bruteForce = (offset: number): number | undefined => {
    for (let i = 0; i < reader.count; i++) {
      const { start, end } = reader.chunkRange(i);
      if (start <= offset && offset < end) return i;
    }
    return undefined;
  };
  const offsets = [0, ...ends.slice(0, 50), ...ends.slice(0, 50).map((end) => end - 1), size, -1];
  let seed = 4242;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    offsets.push(seed % (size + 50));
  }
  for (const offset of offsets) t.is(reader.chunkIndexAt(offset), bruteForce(offset), `${offset}`);
  t.is(reader.chunkIndexAt(1.5), undefined);
});

test("a changed entry or stored checksum fails verification", async (t) => {
  const bytes = await buildIndex([10, 20, 30]);
  const entryFlipped = Buffer.from(bytes);
  entryFlipped[INDEX_HEADER_SIZE + 50]! ^= 1;
  t.throws(() => DynamicIndexReader.parse(entryFlipped).verify(), {
    code: "CAIRN_E_FORMAT_CHECKSUM_MISMATCH",
  });
  const csumFlipped = Buffer.from(bytes);
  csumFlipped[63]! ^= 0x80;
  t.throws(() => DynamicIndexReader.parse(csumFlipped).verify(), {
    code: "CAIRN_E_FORMAT_CHECKSUM_MISMATCH",
  });
  t.notThrows(() => DynamicIndexReader.parse(bytes).verify());
});

test("partial entries, short headers, wrong magic and bad end offsets are rejected", async (t) => {
  const bytes = await buildIndex([10, 20, 30]);
  t.throws(() => DynamicIndexReader.parse(bytes.subarray(0, bytes.length - 1)), {
    code: "CAIRN_E_FORMAT_TRUNCATED",
    message: /119 bytes of entries/,
  });
  t.throws(() => DynamicIndexReader.parse(Buffer.concat([bytes, Buffer.alloc(8)])), {
    code: "CAIRN_E_FORMAT_TRUNCATED",
  });
  t.throws(() => DynamicIndexReader.parse(bytes.subarray(0, 4000)), {
    code: "CAIRN_E_FORMAT_TRUNCATED",
  });
  const wrongMagic = Buffer.from(bytes);
  MAGIC.fixedIndex.copy(wrongMagic, 0);
  t.throws(() => DynamicIndexReader.parse(wrongMagic), { code: "CAIRN_E_FORMAT_BAD_MAGIC" });

  const cases: [number, bigint][] = [
    [1, 10n], // equal to the previous end
    [2, 15n], // below the previous end
    [0, 0n], // an empty first chunk
  ];
  for (const [entry, end] of cases) {
    const bad = Buffer.from(bytes);
    bad.writeBigUInt64LE(end, INDEX_HEADER_SIZE + entry * DYNAMIC_ENTRY_SIZE);
    t.throws(() => DynamicIndexReader.parse(bad), {
      code: "CAIRN_E_FORMAT_BAD_LAYOUT",
      message: new RegExp(`end offset ${entry} is ${end}, not above`),
    });
  }
  const huge = Buffer.from(bytes);
  huge.writeBigUInt64LE(2n ** 63n, INDEX_HEADER_SIZE + 2 * DYNAMIC_ENTRY_SIZE);
  t.throws(() => DynamicIndexReader.parse(huge), {
    code: "CAIRN_E_FORMAT_BAD_LAYOUT",
    message: /beyond 2\^53/,
  });
});
