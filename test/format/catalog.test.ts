import test from "ava";
import { CatalogWriter } from "../../appliance/format/catalog.js";
import { CatalogReader } from "../../appliance/format/catalog-reader.js";
import {
  decodeSvarint,
  decodeVarint,
  encodeSvarint,
  encodeVarint,
} from "../../appliance/format/catalog-varint.js";
import { MAGIC } from "../../appliance/format/magic.js";
import { loadVectors } from "../helpers/vectors.js";

const vectors = loadVectors("pxar-test-vectors.json");

for (const [text, hex] of Object.entries(vectors.catalog_varints as Record<string, string>)) {
  test(`catalog varint of ${text} is ${hex}`, (t) => {
    const value = Number(text);
    t.is(encodeSvarint(value).toString("hex"), hex);
    t.deepEqual(decodeSvarint(Buffer.from(hex, "hex"), 0), { value, next: hex.length / 2 });
    if (value >= 0) {
      t.is(encodeVarint(value).toString("hex"), hex);
      t.deepEqual(decodeVarint(Buffer.from(hex, "hex"), 0), { value, next: hex.length / 2 });
    }
  });
}

test("varints round-trip at the edges of the representable range", (t) => {
  for (const value of [
    0,
    1,
    126,
    127,
    128,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 49,
    Number.MAX_SAFE_INTEGER,
  ]) {
    t.is(decodeVarint(encodeVarint(value), 0).value, value);
    t.is(decodeSvarint(encodeSvarint(value), 0).value, value);
    t.is(decodeSvarint(encodeSvarint(-value), 0).value, -value || 0);
  }
});

test("varint decoding stops at the right byte inside a larger buffer", (t) => {
  const bytes = Buffer.concat([
    Buffer.of(0xff),
    encodeVarint(300),
    encodeSvarint(-128),
    Buffer.of(7),
  ]);
  const first = decodeVarint(bytes, 1);
  t.deepEqual(first, { value: 300, next: 3 });
  t.deepEqual(decodeSvarint(bytes, first.next), { value: -128, next: 6 });
});

test("malformed varints are refused", (t) => {
  t.throws(() => decodeVarint(Buffer.alloc(10, 0x80), 0), { code: "CAIRN_E_FORMAT_BAD_LAYOUT" });
  t.throws(() => decodeSvarint(Buffer.alloc(11, 0x80), 0), { code: "CAIRN_E_FORMAT_BAD_LAYOUT" });
  t.throws(() => decodeVarint(Buffer.of(0x80, 0x80), 0, 100), {
    code: "CAIRN_E_FORMAT_TRUNCATED",
    message: /offset 102/,
  });
  t.throws(() => decodeVarint(Buffer.from("ffffffffffffffffff01", "hex"), 0), { message: /2\^53/ });
  t.throws(() => encodeVarint(-1), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
  t.throws(() => encodeVarint(1.5), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
});

async function write(build: (writer: CatalogWriter) => Promise<void>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const writer = await CatalogWriter.create((chunk) => void parts.push(chunk));
  await build(writer);
  const size = await writer.finish();
  const bytes = Buffer.concat(parts);
  if (bytes.length !== size) throw new Error("finish reported a wrong size");
  return bytes;
}

test("a small catalog is laid out byte for byte as pxar-format.md §8.1 says", async (t) => {
  const bytes = await write(async (writer) => {
    writer.startDirectory("root.pxar.didx");
    writer.addFile("a", 1, 1_700_000_001);
    writer.startDirectory("sub");
    writer.add("l", "symlink");
    await writer.endDirectory();
    await writer.endDirectory();
  });
  const expected = Buffer.concat([
    MAGIC.catalog,
    // block of /root.pxar.didx/sub at 8: table [count 1, 'l', len 1, "l"]
    Buffer.from("04" + "01" + "6c" + "01" + "6c", "hex"),
    // block of /root.pxar.didx at 13, 16 table bytes: 'f' "a" size 1 mtime, 'd' "sub" back 13 − 8 = 5
    Buffer.from(
      "10" + "02" + "66" + "01" + "61" + "01" + "81e2cfaa06" + "64" + "03" + "737562" + "05",
      "hex",
    ),
    // root block at 30: 'd' "root.pxar.didx" back 30 − 13 = 17
    Buffer.from("12" + "01" + "64" + "0e", "hex"),
    Buffer.from("root.pxar.didx"),
    Buffer.from("11", "hex"),
    // pointer to the root block
    Buffer.from("1e00000000000000", "hex"),
  ]);
  t.is(bytes.toString("hex"), expected.toString("hex"));
});

/** Two archives with every entry kind; `[path, description]` pairs in written order. */
async function sampleCatalog(): Promise<{ bytes: Buffer; expected: [string, string][] }> {
  const expected: [string, string][] = [];
  const bytes = await write(async (writer) => {
    writer.startDirectory("root.pxar.didx");
    writer.addFile("file", 12_345, 1_700_000_000);
    writer.addFile("old", 0, -86_400);
    writer.startDirectory("etc");
    for (let i = 0; i < 200; i++) writer.addFile(`conf-${i}`, i, i);
    writer.startDirectory("empty");
    await writer.endDirectory();
    await writer.endDirectory();
    writer.add("link", "symlink");
    writer.add("hard", "hardlink");
    writer.add("sda", "block-device");
    writer.add("tty", "char-device");
    writer.add("fifo", "fifo");
    writer.add("sock", "socket");
    writer.addFile("Grüße.txt", 7, 1);
    await writer.endDirectory();
    writer.startDirectory("data.pxar.didx");
    writer.addFile("x", 2 ** 40, 4_102_444_800);
    await writer.endDirectory();
  });
  expected.push(
    ["/root.pxar.didx", "d"],
    ["/root.pxar.didx/file", "f 12345 1700000000"],
    ["/root.pxar.didx/old", "f 0 -86400"],
    ["/root.pxar.didx/etc", "d"],
    ...[...Array(200).keys()].map((i): [string, string] => [
      `/root.pxar.didx/etc/conf-${i}`,
      `f ${i} ${i}`,
    ]),
    ["/root.pxar.didx/etc/empty", "d"],
    ["/root.pxar.didx/link", "symlink"],
    ["/root.pxar.didx/hard", "hardlink"],
    ["/root.pxar.didx/sda", "block-device"],
    ["/root.pxar.didx/tty", "char-device"],
    ["/root.pxar.didx/fifo", "fifo"],
    ["/root.pxar.didx/sock", "socket"],
    ["/root.pxar.didx/Grüße.txt", "f 7 1"],
    ["/data.pxar.didx", "d"],
    ["/data.pxar.didx/x", `f ${2 ** 40} 4102444800`],
  );
  return { bytes, expected };
}

function describe(entry: Awaited<ReturnType<CatalogReader["readDirectory"]>>[number]): string {
  if (entry.kind === "directory") return "d";
  if (entry.kind === "file") return `f ${entry.size} ${entry.mtime}`;
  return entry.kind;
}

test("a catalog walks back to what was written", async (t) => {
  const { bytes, expected } = await sampleCatalog();
  const reader = await CatalogReader.fromBuffer(bytes);
  const walked: [string, string][] = [];
  for await (const { path, entry } of reader.walk()) walked.push([path, describe(entry)]);
  t.deepEqual(walked, expected);
});

test("lookups and listings find entries by path", async (t) => {
  const { bytes } = await sampleCatalog();
  const reader = await CatalogReader.fromBuffer(bytes);
  t.is(reader.root.kind, "directory");
  t.deepEqual(
    (await reader.list("/")).map((e) => e.name.toString()),
    ["root.pxar.didx", "data.pxar.didx"],
  );
  const conf = await reader.lookup("/root.pxar.didx/etc/conf-150");
  t.deepEqual(conf && describe(conf), "f 150 150");
  t.is((await reader.lookup("root.pxar.didx/Grüße.txt"))?.kind, "file");
  t.deepEqual(await reader.list("/root.pxar.didx/etc/empty"), []);
  t.is(await reader.lookup("/root.pxar.didx/missing"), null);
  t.is(await reader.lookup("/root.pxar.didx/file/below"), null);
  t.is((await reader.lookup("/"))?.kind, "directory");
  await t.throwsAsync(() => reader.list("/root.pxar.didx/file"), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
});

test("a lookup reads only the blocks on its path", async (t) => {
  const { bytes } = await sampleCatalog();
  let read = 0;
  const reader = await CatalogReader.open(async (offset, length) => {
    read += length;
    return bytes.subarray(offset, offset + length);
  }, bytes.length);
  read = 0;
  await reader.lookup("/data.pxar.didx/x");
  t.true(read < 100, `read ${read} of ${bytes.length} bytes`);
});

test("damaged catalogs are refused", async (t) => {
  const { bytes } = await sampleCatalog();
  const open = (b: Buffer) => CatalogReader.fromBuffer(b);
  const copy = () => Buffer.from(bytes);

  const badMagic = copy();
  badMagic[0] = 0;
  await t.throwsAsync(() => open(badMagic), { code: "CAIRN_E_FORMAT_BAD_MAGIC" });
  await t.throwsAsync(() => open(bytes.subarray(0, 16)), { code: "CAIRN_E_FORMAT_TRUNCATED" });

  const badPointer = copy();
  badPointer.writeBigUInt64LE(BigInt(bytes.length), bytes.length - 8);
  await t.throwsAsync(() => open(badPointer), { code: "CAIRN_E_FORMAT_BAD_LAYOUT" });

  const rootBlock = Number(bytes.readBigUInt64LE(bytes.length - 8));
  const badType = copy();
  badType[rootBlock + 2] = 0x7a; // first entry's type byte: 'z'
  await t.throwsAsync(async () => (await open(badType)).list("/"), {
    code: "CAIRN_E_FORMAT_BAD_LAYOUT",
    message: new RegExp(`unknown entry type 0x7a at offset ${rootBlock + 2}`),
  });

  const longerBlock = copy();
  longerBlock[rootBlock] = (longerBlock[rootBlock] ?? 0) + 1; // table claims one byte more
  await t.throwsAsync(async () => (await open(longerBlock)).list("/"), {
    code: "CAIRN_E_FORMAT_BAD_LAYOUT",
  });

  const zeroDistance = await write(async (writer) => {
    writer.startDirectory("a");
    await writer.endDirectory();
  });
  const last = zeroDistance.length - 9; // the root entry's distance byte
  zeroDistance[last] = 0;
  await t.throwsAsync(async () => (await open(zeroDistance)).list("/"), { message: /distance 0/ });
});

test("the writer refuses misuse", async (t) => {
  const writer = await CatalogWriter.create(() => {});
  await t.throwsAsync(() => writer.endDirectory(), { code: "CAIRN_E_FORMAT_INVALID_ARGUMENT" });
  t.throws(() => writer.startDirectory("a/b"), { message: /'\/'/ });
  t.throws(() => writer.addFile("", 0, 0), { message: /1…4095/ });
  t.throws(() => writer.addFile("x".repeat(4096), 0, 0), { message: /1…4095/ });
  t.throws(() => writer.add("x", "file" as "fifo"), { message: /cannot store a file/ });
  writer.startDirectory("open");
  await t.throwsAsync(() => writer.finish(), { message: /1 directories open/ });
  await writer.endDirectory();
  await writer.finish();
  t.throws(() => writer.addFile("late", 0, 0), { message: /finished/ });
});
