import test from "ava";
import { FormatError } from "../../../appliance/format/errors.js";
import { type LocatedEntry, PxarAccessor } from "../../../appliance/format/pxar/accessor.js";
import { hashFilename, PXAR } from "../../../appliance/format/pxar/constants.js";
import { PxarEncoder } from "../../../appliance/format/pxar/encoder.js";
import {
  BIG,
  collect,
  decodeAll,
  encodeTree,
  everyKindTree,
  type Listed,
  listEntry,
  meta,
  ROOT,
  sha256,
} from "./fixtures.js";

/** A readAt over `bytes` that counts what it was asked for. */
function counted(bytes: Buffer) {
  const stats = { calls: 0, bytes: 0 };
  const readAt = async (offset: number, length: number) => {
    stats.calls++;
    stats.bytes += length;
    return bytes.subarray(offset, offset + length);
  };
  return { readAt, stats };
}

async function openTree(split: boolean) {
  const { archive, payload } = await encodeTree(ROOT, everyKindTree(), { split });
  const archiveReader = counted(archive);
  const payloadReader = payload === null ? null : counted(payload);
  const accessor = await PxarAccessor.open(
    archiveReader.readAt,
    archive.length,
    payloadReader === null
      ? {}
      : { payload: { readAt: payloadReader.readAt, size: payload!.length } },
  );
  return { accessor, archive, payload, archiveReader, payloadReader };
}

for (const split of [false, true]) {
  const label = split ? "split" : "v1";

  test(`${label}: every decoded entry is found by path with identical facts`, async (t) => {
    const { accessor, archive, payload } = await openTree(split);
    const decoded = (await decodeAll(archive, payload)).filter((e) => e.kind !== "directory-end");
    for (const expected of decoded) {
      const found = await accessor.lookup(expected.path);
      t.truthy(found, expected.path);
      t.deepEqual(await listEntry(found!), expected);
    }
    t.is(accessor.version, split ? 2 : 1);
  });

  test(`${label}: listing every directory reproduces the decode order`, async (t) => {
    const { accessor, archive, payload } = await openTree(split);
    const decoded = (await decodeAll(archive, payload)).filter((e) => e.kind !== "directory-end");
    const walked: Listed[] = [];
    const walk = async (directory: LocatedEntry): Promise<void> => {
      walked.push(await listEntry(directory));
      for (const child of await accessor.list(directory)) {
        if (child.kind === "directory") await walk(child);
        else walked.push(await listEntry(child));
      }
    };
    await walk(await accessor.root());
    t.deepEqual(walked, decoded);
  });

  test(`${label}: hard links lead to their target files`, async (t) => {
    const { accessor } = await openTree(split);
    for (const [link, target] of [
      ["/big-link", "/big.bin"],
      ["/root-link", "/nested/deeper/target"],
      ["/nested/link-to-target", "/nested/deeper/target"],
    ] as const) {
      const entry = await accessor.lookup(link);
      const followed = await accessor.followHardlink(entry!);
      t.is(followed.path, target);
      t.deepEqual(await listEntry(followed), await listEntry((await accessor.lookup(target))!));
    }
  });
}

test("a lookup reads little more than the goodbye tables and the entry on its path", async (t) => {
  const { accessor, archive, archiveReader } = await openTree(false);
  const before = { ...archiveReader.stats };
  const entry = await accessor.lookup("/many/file-042");
  t.is(entry?.kind, "file");
  const read = archiveReader.stats.bytes - before.bytes;
  t.true(read < 64 * 1024, `read ${read} bytes of ${archive.length}`);
  t.true(archive.length > 5 * 1024 * 1024);
  if (entry?.kind === "file") t.deepEqual(await collect(entry.content!), Buffer.alloc(42, 42));
});

test("the content of a big file is read through the accessor in full", async (t) => {
  for (const split of [false, true]) {
    const { accessor } = await openTree(split);
    const entry = await accessor.lookup("big.bin");
    if (entry?.kind !== "file") return t.fail("not a file");
    t.is(sha256(await collect(entry.content!)), sha256(BIG));
    // re-reading gives the same bytes again
    t.is(sha256(await collect(entry.content!)), sha256(BIG));
  }
});

test("split archive without its payload: entries are found, contents are absent", async (t) => {
  const { archive } = await encodeTree(ROOT, everyKindTree(), { split: true });
  const accessor = await PxarAccessor.open(
    async (o, l) => archive.subarray(o, o + l),
    archive.length,
  );
  const entry = await accessor.lookup("/big.bin");
  t.is(entry?.kind, "file");
  if (entry?.kind === "file") {
    t.is(entry.content, null);
    t.is(entry.payloadRef?.size, BIG.length);
  }
});

test("paths: '.' and repeated slashes are ignored, '..' is refused, names inside files do not exist", async (t) => {
  const { accessor } = await openTree(false);
  t.is((await accessor.lookup("//nested/./deeper//target"))?.path, "/nested/deeper/target");
  t.is((await accessor.lookup("/"))?.kind, "directory");
  t.is((await accessor.lookup(""))?.path, "/");
  t.is(await accessor.lookup("/big.bin/inside"), null);
  t.is(await accessor.lookup("/missing"), null);
  await t.throwsAsync(() => accessor.lookup("/nested/../big.bin"), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
  const unicode = await accessor.lookup(Buffer.from("/Grüße.txt", "utf8"));
  t.is(unicode?.kind, "file");
});

test("a hash shared by two records is resolved by the stored name", async (t) => {
  const archive: Buffer[] = [];
  const encoder = await PxarEncoder.create((c) => void archive.push(c), meta(0o40755));
  for (const name of ["alpha", "beta"]) {
    await encoder.add(name, {
      kind: "symlink",
      metadata: meta(0o120777),
      target: name.toUpperCase(),
    });
  }
  await encoder.finish();
  const original = Buffer.concat(archive);
  const records = original.length - 24 * 3;
  t.is(original.readBigUInt64LE(records - 16), PXAR.goodbye);
  // give both records one name's hash: whichever sits first, the lookup must skip the other name
  for (const name of ["alpha", "beta"]) {
    const bytes = Buffer.from(original);
    const hash = hashFilename(Buffer.from(name));
    bytes.writeBigUInt64LE(hash, records);
    bytes.writeBigUInt64LE(hash, records + 24);
    const accessor = await PxarAccessor.open(
      async (o, l) => bytes.subarray(o, o + l),
      bytes.length,
    );
    const entry = await accessor.lookup(name);
    t.is(entry?.name.toString(), name);
    t.is(entry?.kind === "symlink" ? entry.target.toString() : null, name.toUpperCase());
  }
});

test("a damaged goodbye tail or record is reported with its offset", async (t) => {
  const { archive } = await encodeTree(ROOT, everyKindTree());
  const tailAt = archive.length - 24;
  const noTail = Buffer.from(archive);
  noTail.writeBigUInt64LE(0n, tailAt);
  const broken = await PxarAccessor.open(async (o, l) => noTail.subarray(o, o + l), noTail.length);
  const error = await t.throwsAsync(() => broken.lookup("/big.bin"), { instanceOf: FormatError });
  t.is(error?.context.offset, tailAt);

  const badRecord = Buffer.from(archive);
  const goodbyeStart = archive.length - Number(archive.readBigUInt64LE(tailAt + 16));
  for (let i = 0; (i + 1) * 24 < archive.length - goodbyeStart - 16; i++) {
    badRecord.writeBigUInt64LE(BigInt(archive.length * 2), goodbyeStart + 16 + i * 24 + 8);
  }
  const damaged = await PxarAccessor.open(
    async (o, l) => badRecord.subarray(o, o + l),
    badRecord.length,
  );
  const root = await damaged.root();
  await t.throwsAsync(() => damaged.list(root), {
    code: "CAIRN_E_FORMAT_BAD_LAYOUT",
    message: /points outside its directory/,
  });
});

test("a readAt that returns short reads is a truncation", async (t) => {
  const { archive } = await encodeTree(ROOT, everyKindTree());
  const short = async (o: number, l: number) => archive.subarray(o, o + Math.min(l, 20));
  await t.throwsAsync(async () => (await PxarAccessor.open(short, archive.length)).lookup("/x"), {
    code: "CAIRN_E_FORMAT_TRUNCATED",
    message: /returned 20 of/,
  });
});
