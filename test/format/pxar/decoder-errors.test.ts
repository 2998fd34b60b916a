import test, { type ExecutionContext } from "ava";
import { FormatError } from "../../../appliance/format/errors.js";
import { PXAR } from "../../../appliance/format/pxar/constants.js";
import { PxarDecoder } from "../../../appliance/format/pxar/decoder.js";
import { encodeStat } from "../../../appliance/format/pxar/items.js";
import { loadVectors } from "../../helpers/vectors.js";
import { asyncPieces, encodeTree, meta } from "./fixtures.js";

const vectors = loadVectors("pxar-test-vectors.json");
const TINY_V1 = Buffer.from(vectors.archives[0].archive_hex, "hex");
const TINY_V2 = Buffer.from(vectors.archives[1].archive_hex, "hex");
const TINY_V2_PAYLOAD = Buffer.from(vectors.archives[1].payload_hex, "hex");

interface Item {
  offset: number;
  htype: bigint;
  size: number;
}

/** The archive's items in order, read straight from the headers (independent of the decoder). */
function items(archive: Buffer): Item[] {
  const out: Item[] = [];
  for (let at = 0; at < archive.length; ) {
    const size = Number(archive.readBigUInt64LE(at + 8));
    out.push({ offset: at, htype: archive.readBigUInt64LE(at), size });
    at += size;
  }
  return out;
}

/** The n-th item of a type. */
function find(archive: Buffer, htype: bigint, n = 0): Item {
  return items(archive).filter((item) => item.htype === htype)[n]!;
}

async function decode(archive: Buffer, payload?: Buffer): Promise<void> {
  const decoder = new PxarDecoder(
    asyncPieces(archive, [7, 100]),
    payload === undefined ? {} : { payload: asyncPieces(payload, [3]) },
  );
  for await (const item of decoder) {
    if (item.kind === "file" && item.content !== null) for await (const _ of item.content);
  }
}

async function rejects(
  t: ExecutionContext,
  archive: Buffer,
  code: string,
  offset: number,
  payload?: Buffer,
): Promise<void> {
  const error = await t.throwsAsync(() => decode(archive, payload), { instanceOf: FormatError });
  t.is(error?.code, `CAIRN_E_FORMAT_${code}`, error?.message);
  t.is(error?.context.offset, offset, error?.message);
  t.regex(error?.message ?? "", new RegExp(`at offset ${offset}\\b`));
}

function patched(archive: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(archive);
  edit(copy);
  return copy;
}

test("the unmodified vectors decode", async (t) => {
  await t.notThrowsAsync(() => decode(TINY_V1));
  await t.notThrowsAsync(() => decode(TINY_V2, TINY_V2_PAYLOAD));
});

test("every truncation of an archive is reported as truncated", async (t) => {
  for (let length = 0; length < TINY_V1.length; length++) {
    const error = await t.throwsAsync(() => decode(TINY_V1.subarray(0, length)), {
      instanceOf: FormatError,
    });
    t.is(error?.code, "CAIRN_E_FORMAT_TRUNCATED", `length ${length}: ${error?.message}`);
  }
});

test("bytes after the root goodbye table are refused", async (t) => {
  await rejects(t, Buffer.concat([TINY_V1, Buffer.of(0)]), "BAD_LAYOUT", TINY_V1.length);
});

test("an unknown item where a FILENAME belongs is refused at its offset", async (t) => {
  const link = find(TINY_V1, PXAR.filename, 1);
  const archive = patched(TINY_V1, (b) => b.writeBigUInt64LE(0x1234n, link.offset));
  await rejects(t, archive, "BAD_LAYOUT", link.offset);
});

test("a header smaller than itself is refused", async (t) => {
  const payload = find(TINY_V1, PXAR.payload);
  await rejects(
    t,
    patched(TINY_V1, (b) => b.writeBigUInt64LE(15n, payload.offset + 8)),
    "BAD_LAYOUT",
    payload.offset,
  );
});

test("an oversized FILENAME is refused before it is read", async (t) => {
  const name = find(TINY_V1, PXAR.filename);
  await rejects(
    t,
    patched(TINY_V1, (b) => b.writeBigUInt64LE(16n + 4098n, name.offset + 8)),
    "OVERSIZE",
    name.offset,
  );
});

test("a file name with a slash, or without its NUL, is refused", async (t) => {
  const name = find(TINY_V1, PXAR.filename);
  await rejects(
    t,
    patched(TINY_V1, (b) => b.write("/", name.offset + 16 + 2)),
    "BAD_LAYOUT",
    name.offset,
  );
  await rejects(
    t,
    patched(TINY_V1, (b) => b.writeUInt8(0x41, name.offset + name.size - 1)),
    "BAD_LAYOUT",
    name.offset,
  );
});

test("an ENTRY of the wrong size is refused", async (t) => {
  const entry = find(TINY_V1, PXAR.entry, 1);
  await rejects(
    t,
    patched(TINY_V1, (b) => b.writeBigUInt64LE(16n + 41n, entry.offset + 8)),
    "OVERSIZE",
    entry.offset,
  );
  await rejects(
    t,
    patched(TINY_V1, (b) => b.writeBigUInt64LE(16n + 39n, entry.offset + 8)),
    "BAD_LAYOUT",
    entry.offset,
  );
});

test("an entry whose mode does not fit its content item is refused", async (t) => {
  const symlinkEntry = find(TINY_V1, PXAR.entry, 2);
  const archive = patched(TINY_V1, (b) => b.writeBigUInt64LE(0o100644n, symlinkEntry.offset + 16));
  await rejects(t, archive, "BAD_LAYOUT", symlinkEntry.offset);
});

test("goodbye records that do not match the directory are refused", async (t) => {
  const goodbye = find(TINY_V1, PXAR.goodbye, 1);
  const record = (i: number) => goodbye.offset + 16 + 24 * i;
  const cases: [string, (b: Buffer) => void, number][] = [
    ["hash", (b) => b.writeBigUInt64LE(b.readBigUInt64LE(record(0)) ^ 1n, record(0)), record(0)],
    [
      "offset",
      (b) => b.writeBigUInt64LE(b.readBigUInt64LE(record(1) + 8) + 1n, record(1) + 8),
      record(1),
    ],
    [
      "size",
      (b) => b.writeBigUInt64LE(b.readBigUInt64LE(record(2) + 16) - 1n, record(2) + 16),
      record(2),
    ],
    ["tail offset", (b) => b.writeBigUInt64LE(1n, record(3) + 8), record(3)],
    ["tail marker", (b) => b.writeBigUInt64LE(0n, record(3)), record(3)],
  ];
  for (const [what, edit, offset] of cases) {
    const error = await t.throwsAsync(() => decode(patched(TINY_V1, edit)), {
      instanceOf: FormatError,
    });
    t.is(error?.code, "CAIRN_E_FORMAT_BAD_LAYOUT", what);
    t.is(error?.context.offset, offset, `${what}: ${error?.message}`);
  }
});

test("swapped goodbye records (right records, wrong tree order) are refused", async (t) => {
  const goodbye = find(TINY_V1, PXAR.goodbye, 1);
  const first = goodbye.offset + 16;
  const archive = patched(TINY_V1, (b) => {
    const a = Buffer.from(b.subarray(first, first + 24));
    b.copy(b, first, first + 24, first + 48);
    a.copy(b, first + 24);
  });
  await rejects(t, archive, "BAD_LAYOUT", first);
});

test("a goodbye table listing fewer children than the directory has is refused", async (t) => {
  const { archive } = await encodeTree(meta(0o40755), []);
  // root with no children: splice in a fifo without touching the table
  const entrySize = 56;
  const child = Buffer.concat([
    item(PXAR.filename, Buffer.from("x\0")),
    item(PXAR.entry, encodeStat(meta(0o10644).stat)),
  ]);
  const mutated = Buffer.concat([
    archive.subarray(0, entrySize),
    child,
    archive.subarray(entrySize),
  ]);
  await rejects(t, mutated, "BAD_LAYOUT", entrySize + child.length);
});

test("a second FCAPS or QUOTA_PROJID on an entry is refused", async (t) => {
  const root = meta(0o40755, 1, 0, { fcaps: Buffer.from([1, 2]) });
  const { archive } = await encodeTree(root, []);
  const fcaps = find(archive, PXAR.fcaps);
  const doubled = Buffer.concat([
    archive.subarray(0, fcaps.offset + fcaps.size),
    archive.subarray(fcaps.offset, fcaps.offset + fcaps.size),
    archive.subarray(fcaps.offset + fcaps.size),
  ]);
  await rejects(t, doubled, "BAD_LAYOUT", fcaps.offset + fcaps.size);
});

test("a hard link pointing before the archive is refused", async (t) => {
  const { archive } = await encodeTree(meta(0o40755), [
    { name: "f", entry: { kind: "file", metadata: meta(0o100644), size: 0, content: [] } },
    { name: "g", hardlinkTo: "/f" },
  ]);
  const link = find(archive, PXAR.hardlink);
  await rejects(
    t,
    patched(archive, (b) => b.writeBigUInt64LE(1_000_000n, link.offset + 16)),
    "BAD_LAYOUT",
    link.offset,
  );
  await rejects(
    t,
    patched(archive, (b) => b.writeBigUInt64LE(0n, link.offset + 16)),
    "BAD_LAYOUT",
    link.offset,
  );
});

test("an unknown format version is refused", async (t) => {
  await rejects(
    t,
    patched(TINY_V2, (b) => b.writeBigUInt64LE(3n, 16)),
    "BAD_LAYOUT",
    0,
  );
});

test("split archives: a broken payload stream is refused", async (t) => {
  const start = patched(TINY_V2_PAYLOAD, (b) => b.writeBigUInt64LE(PXAR.payload, 0));
  await rejects(t, TINY_V2, "BAD_MAGIC", 0, start);
  const noTail = TINY_V2_PAYLOAD.subarray(0, TINY_V2_PAYLOAD.length - 16);
  await rejects(
    t,
    TINY_V2,
    "BAD_LAYOUT",
    noTail.length,
    Buffer.concat([noTail, Buffer.alloc(16, 0xcc)]),
  );
  const wrongSize = patched(TINY_V2_PAYLOAD, (b) => b.writeBigUInt64LE(23n, 16 + 8));
  await rejects(t, TINY_V2, "BAD_LAYOUT", 16, wrongSize);
  const ref = find(TINY_V2, PXAR.payloadRef, 1);
  const behind = patched(TINY_V2, (b) => b.writeBigUInt64LE(16n, ref.offset + 16));
  await rejects(t, behind, "BAD_LAYOUT", ref.offset, TINY_V2_PAYLOAD);
});

test("PAYLOAD_REF in an archive without format version 2 is refused", async (t) => {
  const ref = find(TINY_V2, PXAR.payloadRef);
  const v1 = TINY_V2.subarray(24); // drop FORMAT_VERSION: offsets shift by 24
  await t.throwsAsync(() => decode(v1), {
    code: "CAIRN_E_FORMAT_BAD_LAYOUT",
    message: new RegExp(`offset ${ref.offset - 24}\\b`),
  });
});

test("any single corrupted byte yields a FormatError or a valid archive, never a crash", async (t) => {
  for (const [archive, payload] of [
    [TINY_V1, undefined],
    [TINY_V2, TINY_V2_PAYLOAD],
  ] as const) {
    for (let at = 0; at < archive.length; at++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const corrupted = patched(archive, (b) => b.writeUInt8(b[at]! ^ flip, at));
        try {
          await decode(corrupted, payload);
        } catch (error) {
          if (!(error instanceof FormatError)) t.fail(`byte ${at} ^ ${flip}: ${String(error)}`);
        }
      }
    }
  }
  t.pass();
});

function item(htype: bigint, content: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeBigUInt64LE(htype, 0);
  header.writeBigUInt64LE(BigInt(16 + content.length), 8);
  return Buffer.concat([header, content]);
}

test("an item too big to read whole is refused before any allocation", async (t) => {
  const goodbye = find(TINY_V1, PXAR.goodbye, 1);
  const huge = patched(TINY_V1, (b) => b.writeBigUInt64LE(1n << 40n, goodbye.offset + 8));
  await rejects(t, huge, "OVERSIZE", goodbye.offset);
});
