import { createHash } from "node:crypto";
import test from "ava";
import {
  type BoundaryFinder,
  nativeFinder,
  typescriptFinder,
} from "../../appliance/format/buzhash-scan.js";
import { BUZHASH_TABLE } from "../../appliance/format/buzhash-table.js";
import type { BoundaryScanner } from "../../appliance/format/chunk-stream.js";
import { Chunker, chunkStream } from "../../appliance/format/chunker.js";
import { FixedChunker, fixedChunkStream } from "../../appliance/format/fixed-chunker.js";
import {
  pseudoRandomBuffer,
  sha256CounterBuffer,
  u32CounterBuffer,
} from "../helpers/generators.js";
import { loadVectors } from "../helpers/vectors.js";

const MiB = 1024 * 1024;
const chunkerVectors = loadVectors().derived.chunker;

const finders: [string, BoundaryFinder | undefined][] = [
  ["native", nativeFinder],
  ["typescript", typescriptFinder],
];

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Chunk lengths from feeding `pieces` to `scanner` one after another; the remainder comes last. */
function lengthsOf(scanner: BoundaryScanner, pieces: Iterable<Uint8Array>): number[] {
  const lengths: number[] = [];
  let open = 0;
  for (const piece of pieces) {
    let rest = piece;
    for (let cut = scanner.scan(rest); cut >= 0; cut = scanner.scan(rest)) {
      lengths.push(open + cut);
      open = 0;
      rest = rest.subarray(cut);
    }
    open += rest.length;
  }
  if (open > 0) lengths.push(open);
  return lengths;
}

/** Splits `data` into pieces of 0…maxPiece bytes chosen by a seeded generator. */
function* randomPieces(data: Uint8Array, maxPiece: number, seed: number): Generator<Uint8Array> {
  let state = seed >>> 0 || 1;
  for (let at = 0; at < data.length; ) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const size = (state >>> 0) % (maxPiece + 1);
    yield data.subarray(at, at + size);
    at += size;
  }
}

function* bytesOneByOne(data: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < data.length; at++) yield data.subarray(at, at + 1);
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

async function* asSource(pieces: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* pieces;
}

const lazy = <T>(make: () => T) => {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
};
const counter1MiB = lazy(() => u32CounterBuffer(MiB));
const sha256Counter4MiB = lazy(() => sha256CounterBuffer(4 * MiB));
const sha256Counter32MiB = lazy(() => sha256CounterBuffer(32 * MiB));
const random1MiB = lazy(() => pseudoRandomBuffer(MiB, "split"));
const random64MiB = lazy(() => pseudoRandomBuffer(64 * MiB, "insert"));

test("the buzhash table is the one of pbs-formats.md Appendix A", (t) => {
  t.is(BUZHASH_TABLE.length, 256);
  const littleEndian = Buffer.alloc(1024);
  for (const [index, value] of BUZHASH_TABLE.entries())
    littleEndian.writeUInt32LE(value, index * 4);
  t.is(sha256(littleEndian), "5b52080d38287da9d2e278466e3e0db7ec98e5e8b226f50612a56fa012b1f660");
  t.is(BUZHASH_TABLE[0], 0x458be752);
  t.is(BUZHASH_TABLE[255], 0xd95ddf11);
});

test("the native boundary search is built and loaded", (t) => {
  t.is(typeof nativeFinder, "function", "run `npm ci` (or `npm run install`) to build it");
});

test("parameters follow from the average and a bad average is refused", (t) => {
  const chunker = new Chunker({ avg: 64 * 1024 });
  t.deepEqual(
    [chunker.min, chunker.max, chunker.mask, chunker.threshold],
    [16 * 1024, 256 * 1024, 0x1ffff, 0x1fffd],
  );
  t.is(new Chunker().avg, 4 * MiB);
  for (const avg of [0, 3, 100_000, 1.5, -64, 32, 2 ** 29]) {
    t.throws(() => new Chunker({ avg }), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
  }
});

for (const [name, finder] of finders) {
  const chunker = (avg: number) => {
    if (!finder) throw new Error(`${name} boundary search is not available`);
    return new Chunker({ avg, finder });
  };

  test(`${name}: the three chunker vectors`, (t) => {
    const cases = [
      [counter1MiB(), 64 * 1024, chunkerVectors.pbs_unit_test_buffer_1MiB_avg64KiB],
      [sha256Counter4MiB(), 64 * 1024, chunkerVectors.sha256ctr_4MiB_avg64KiB],
      [sha256Counter32MiB(), 4 * MiB, chunkerVectors.sha256ctr_32MiB_avg4MiB],
    ] as const;
    for (const [input, avg, vector] of cases) {
      t.is(sha256(input), vector.sha256);
      t.deepEqual(lengthsOf(chunker(avg), [input]), vector.lengths);
    }
  });

  test(`${name}: boundaries do not depend on how the input is split`, (t) => {
    for (const [input, avg] of [
      [counter1MiB(), 64 * 1024],
      [random1MiB(), 4096],
    ] as const) {
      const whole = lengthsOf(chunker(avg), [input]);
      t.true(whole.length > 4);
      t.deepEqual(lengthsOf(chunker(avg), bytesOneByOne(input)), whole);
      for (const [maxPiece, seed] of [
        [70, 1],
        [5000, 2],
        [300_000, 3],
      ] as const) {
        t.deepEqual(lengthsOf(chunker(avg), randomPieces(input, maxPiece, seed)), whole);
      }
    }
  });

  test(`${name}: inserting one byte near the start changes at most two chunks`, (t) => {
    const original = random64MiB();
    const edited = Buffer.concat([
      original.subarray(0, 1000),
      Buffer.of(0x42),
      original.subarray(1000),
    ]);
    const digests = (data: Buffer) => {
      const out: string[] = [];
      let at = 0;
      for (const length of lengthsOf(chunker(4 * MiB), [data])) {
        out.push(sha256(data.subarray(at, at + length)));
        at += length;
      }
      return out;
    };
    const before = digests(original);
    const after = digests(edited);
    t.true(before.length >= 8);
    const lost = before.filter((digest) => !after.includes(digest));
    const gained = after.filter((digest) => !before.includes(digest));
    t.true(lost.length >= 1 && lost.length <= 2, `${lost.length} chunks lost`);
    t.true(gained.length >= 1 && gained.length <= 2, `${gained.length} chunks gained`);
  });
}

test("native and TypeScript searches agree on every boundary, in every lane", (t) => {
  const native = nativeFinder;
  if (!native) return t.fail("native boundary search is not built");
  const data = random1MiB();
  for (const mask of [0x3ff, 0xffff, 0x3ffff, 0xfffff]) {
    for (const reach of [data.length, 150_000, 9_000]) {
      for (let from = 64; from < data.length; ) {
        const to = Math.min(data.length, from + reach);
        const expected = typescriptFinder(data, from, to, mask, mask - 2);
        t.is(native(data, from, to, mask, mask - 2), expected);
        from = expected < 0 ? to + 1 : expected + 1;
      }
    }
  }
  t.is(native(data, 100, 99, 0x3ff, 0x3fd), -1);
  t.throws(() => native(data, 10, 1000, 0x3ff, 0x3fd), { instanceOf: RangeError });
});

test("chunkStream yields whole chunks, copying only those that span pieces", async (t) => {
  const input = random1MiB();
  const expected = lengthsOf(new Chunker({ avg: 4096 }), [input]);
  const pieces = [...randomPieces(input, 20_000, 7)];
  const chunks = await collect(chunkStream(asSource(pieces), { avg: 4096 }));
  t.deepEqual(
    chunks.map((chunk) => chunk.length),
    expected,
  );
  t.true(Buffer.concat(chunks).equals(input));
  const views = chunks.filter((chunk) => pieces.some((piece) => piece.buffer === chunk.buffer));
  t.true(views.length > 0 && views.length < chunks.length);
  t.deepEqual(await collect(chunkStream(asSource([]))), []);
});

test("fixed chunking cuts every 4 MiB whatever the pieces", async (t) => {
  const input = pseudoRandomBuffer(10 * MiB + 5, "fixed");
  const chunks = await collect(fixedChunkStream(asSource(randomPieces(input, 300_000, 9))));
  t.deepEqual(
    chunks.map((chunk) => chunk.length),
    [4 * MiB, 4 * MiB, 2 * MiB + 5],
  );
  t.true(Buffer.concat(chunks).equals(input));
  t.deepEqual(lengthsOf(new FixedChunker(), [input.subarray(0, 8 * MiB)]), [4 * MiB, 4 * MiB]);
  t.deepEqual(
    lengthsOf(new FixedChunker(1000), bytesOneByOne(input.subarray(0, 2500))),
    [1000, 1000, 500],
  );
  t.deepEqual(await collect(fixedChunkStream(asSource([]))), []);
  t.throws(() => new FixedChunker(0), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
});
