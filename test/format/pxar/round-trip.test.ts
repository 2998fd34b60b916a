import test from "ava";
import { PxarAccessor } from "../../../appliance/format/pxar/accessor.js";
import { hashFilename, PXAR } from "../../../appliance/format/pxar/constants.js";
import { PxarDecoder } from "../../../appliance/format/pxar/decoder.js";
import { PxarEncoder } from "../../../appliance/format/pxar/encoder.js";
import { encodeGoodbye } from "../../../appliance/format/pxar/goodbye.js";
import { encodeItem } from "../../../appliance/format/pxar/header.js";
import {
  asyncPieces,
  BIG,
  collect,
  decodeAll,
  encodeTree,
  everyKindTree,
  expectedListing,
  meta,
  ROOT,
  sha256,
} from "./fixtures.js";

for (const split of [false, true]) {
  const label = split ? "split (.mpxar + .ppxar)" : "v1";

  test(`${label}: a tree of every entry kind decodes to what was encoded`, async (t) => {
    const tree = everyKindTree();
    const { archive, payload } = await encodeTree(ROOT, tree, { split });
    const expected = expectedListing(ROOT, tree);
    t.deepEqual(await decodeAll(archive, payload, [4093]), expected);
    t.deepEqual(await decodeAll(archive, payload, [1, 17, 65_537]), expected);
    t.is(archive.readBigUInt64LE(0), split ? PXAR.formatVersion : PXAR.entry);
    if (split) {
      t.true(archive.length < BIG.length, "contents are not in the metadata archive");
      t.true(payload!.length > BIG.length);
    } else {
      t.true(archive.length > BIG.length);
    }
  });
}

test("split: a prelude is kept and reported", async (t) => {
  const prelude = Buffer.from('{"exclude-patterns":"*.tmp\\n!keep.tmp"}');
  const { archive, payload } = await encodeTree(ROOT, [], { split: true, prelude });
  const decoder = new PxarDecoder(asyncPieces(archive, [5]), {
    payload: asyncPieces(payload!, [5]),
  });
  const kinds = [];
  for await (const item of decoder) kinds.push(item.kind);
  t.deepEqual(kinds, ["directory", "directory-end"]);
  t.deepEqual(decoder.prelude, prelude);
  t.is(decoder.version, 2);
});

test("split: re-used payload is referenced at its injected offset and decodes", async (t) => {
  const archive: Buffer[] = [];
  const payload: Buffer[] = [];
  const encoder = await PxarEncoder.create((c) => void archive.push(c), meta(0o40755), {
    payload: (c) => void payload.push(c),
  });
  await encoder.add("new", {
    kind: "file",
    metadata: meta(0o100644),
    size: 3,
    content: [Buffer.from("new")],
  });
  // an old chunk: 5 bytes of padding, then PAYLOAD of "reused!", then 2 bytes of padding
  const reused = Buffer.from("reused!");
  const header = Buffer.alloc(16);
  header.writeBigUInt64LE(PXAR.payload, 0);
  header.writeBigUInt64LE(BigInt(16 + reused.length), 8);
  const injected = Buffer.concat([Buffer.alloc(5, 0xaa), header, reused, Buffer.alloc(2, 0xbb)]);
  const at = encoder.payloadPosition;
  await encoder.add("old", {
    kind: "reused-file",
    metadata: meta(0o100644),
    size: reused.length,
    payloadOffset: at + 5,
  });
  await encoder.advancePayload(injected.length);
  payload.push(injected);
  t.is(encoder.payloadPosition, at + injected.length);
  await encoder.add("after", {
    kind: "file",
    metadata: meta(0o100644),
    size: 1,
    content: [Buffer.from("z")],
  });
  await encoder.finish();
  const listing = await decodeAll(Buffer.concat(archive), Buffer.concat(payload));
  t.deepEqual(
    listing.filter((e) => e.kind === "file").map((e) => [e.path, e.sha256]),
    [
      ["/new", sha256(Buffer.from("new"))],
      ["/old", sha256(reused)],
      ["/after", sha256(Buffer.from("z"))],
    ],
  );
});

test("the encoder hands file content on while the file is still being read", async (t) => {
  let delivered = 0;
  const encoder = await PxarEncoder.create((c) => {
    delivered += c.length;
  }, meta(0o40755));
  const piece = Buffer.alloc(256 * 1024, 1);
  let seenBeforeLast = 0;
  async function* content() {
    for (let i = 0; i < 16; i++) {
      if (i === 15) seenBeforeLast = delivered;
      yield piece;
    }
  }
  await encoder.add("stream", {
    kind: "file",
    metadata: meta(0o100644),
    size: 16 * piece.length,
    content: content(),
  });
  await encoder.finish();
  t.true(
    seenBeforeLast >= 14 * piece.length,
    `only ${seenBeforeLast} bytes out before the last piece`,
  );
});

test("file content read partly or not at all is skipped correctly", async (t) => {
  const tree = everyKindTree();
  const { archive } = await encodeTree(ROOT, tree);
  const decoder = new PxarDecoder(asyncPieces(archive, [333]));
  const paths = [];
  let firstBigPiece: Buffer | null = null;
  for await (const item of decoder) {
    paths.push(item.path);
    if (item.kind === "file" && item.path === "/big.bin") {
      for await (const piece of item.content!) {
        firstBigPiece = piece;
        break;
      }
    }
  }
  t.deepEqual(firstBigPiece, BIG.subarray(0, firstBigPiece!.length));
  t.deepEqual(
    paths,
    expectedListing(ROOT, tree).map((e) => e.path),
  );
});

test("reading content after the decoder moved on is refused", async (t) => {
  const { archive } = await encodeTree(ROOT, everyKindTree());
  let kept: AsyncIterable<Buffer> | null = null;
  for await (const item of new PxarDecoder(asyncPieces(archive, [4096]))) {
    if (item.kind === "file" && item.path === "/big.bin") kept = item.content;
  }
  await t.throwsAsync(() => collect(kept!), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
});

test("legacy ENTRY_V1 stats are read with their nanosecond mtime split into secs and nanos", async (t) => {
  const statV1 = (mode: number) => {
    const stat = Buffer.alloc(32);
    stat.writeBigUInt64LE(BigInt(mode), 0);
    stat.writeUInt32LE(1000, 16);
    stat.writeUInt32LE(100, 20);
    stat.writeBigUInt64LE(1_500_000_000_123_456_789n, 24);
    return encodeItem(PXAR.entryV1, stat);
  };
  const root = statV1(0o40755);
  const child = Buffer.concat([encodeItem(PXAR.filename, Buffer.from("p\0")), statV1(0o10600)]);
  const goodbyeStart = root.length + child.length;
  const goodbye = encodeGoodbye(
    [{ hash: hashFilename(Buffer.from("p")), start: root.length, size: child.length }],
    goodbyeStart,
    0,
  );
  const archive = Buffer.concat([root, child, goodbye]);
  const listing = await decodeAll(archive);
  t.deepEqual(
    listing.map((e) => [e.path, e.kind, e.metadata?.stat.mtime, e.metadata?.stat.gid]),
    [
      ["/", "directory", { secs: 1_500_000_000, nanos: 123_456_789 }, 100],
      ["/p", "fifo", { secs: 1_500_000_000, nanos: 123_456_789 }, 100],
      ["/", "directory-end", undefined, undefined],
    ],
  );
  const accessor = await PxarAccessor.open(
    async (o, l) => archive.subarray(o, o + l),
    archive.length,
  );
  t.is((await accessor.lookup("/p"))?.kind, "fifo");
});
