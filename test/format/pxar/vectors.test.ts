import test from "ava";
import { PxarAccessor } from "../../../appliance/format/pxar/accessor.js";
import { PxarDecoder } from "../../../appliance/format/pxar/decoder.js";
import type { PxarEntry } from "../../../appliance/format/pxar/entries.js";
import { loadVectors } from "../../helpers/vectors.js";
import { asyncPieces, collect, encodeTree, meta, sha256, type TreeItem } from "./fixtures.js";

const vectors = loadVectors("pxar-test-vectors.json");
const [tinyV1, tinyV2] = vectors.archives;

/** The tree both tiny vectors hold (pxar-test-vectors.json listings). */
const TINY_TREE: TreeItem[] = [
  {
    name: "hello.txt",
    entry: { kind: "file", metadata: meta(0o100644), size: 6, content: [Buffer.from("hello\n")] },
  },
  { name: "link", entry: { kind: "symlink", metadata: meta(0o120777), target: "hello.txt" } },
  {
    name: "sub",
    directory: meta(0o40750),
    children: [
      {
        name: "a",
        entry: {
          kind: "file",
          metadata: meta(0o100644, 1_700_000_001, 5),
          size: 1,
          content: [Buffer.from("A")],
        },
      },
    ],
  },
];

test("tiny-v1: the encoder reproduces the archive byte for byte", async (t) => {
  const { archive, payload } = await encodeTree(meta(0o40755), TINY_TREE);
  t.is(archive.toString("hex"), tinyV1.archive_hex);
  t.is(sha256(archive), tinyV1.archive_sha256);
  t.is(payload, null);
});

test("tiny-v2: the split encoder reproduces .mpxar and .ppxar byte for byte", async (t) => {
  const { archive, payload } = await encodeTree(meta(0o40755), TINY_TREE, { split: true });
  t.is(archive.toString("hex"), tinyV2.archive_hex);
  t.is(sha256(archive), tinyV2.archive_sha256);
  t.is(payload?.toString("hex"), tinyV2.payload_hex);
});

/** An entry in the vectors' listing form. */
async function asListing(entry: PxarEntry): Promise<Record<string, unknown>> {
  if (entry.kind === "hardlink") throw new Error("the tiny vectors hold no hard links");
  const { stat } = entry.metadata;
  const out: Record<string, unknown> = {
    path: entry.path,
    type: entry.kind === "directory" ? "dir" : entry.kind,
    mode: stat.mode.toString(8),
    uid: stat.uid,
    gid: stat.gid,
    mtime: stat.mtime.secs,
    mtime_nsec: stat.mtime.nanos,
    flags: stat.flags,
    xattrs: Object.fromEntries(
      entry.metadata.xattrs.map((x) => [
        Buffer.from(x.name).toString(),
        Buffer.from(x.value).toString("hex"),
      ]),
    ),
  };
  if (entry.kind === "file") {
    out.size = entry.size;
    out.sha256 = sha256(await collect(entry.content!));
    if (entry.payloadRef !== null) out.payload_offset = entry.payloadRef.offset;
  }
  if (entry.kind === "symlink") out.target = entry.target.toString();
  return out;
}

for (const vector of [tinyV1, tinyV2]) {
  for (const sizes of [[1], [3, 16, 5], [1 << 20]]) {
    test(`${vector.name}: decoding in pieces of ${sizes.join("/")} gives the listing`, async (t) => {
      const archive = Buffer.from(vector.archive_hex, "hex");
      const payload = vector.payload_hex === null ? null : Buffer.from(vector.payload_hex, "hex");
      const decoder = new PxarDecoder(
        asyncPieces(archive, sizes),
        payload === null ? {} : { payload: asyncPieces(payload, sizes) },
      );
      const listing = [];
      const ends = [];
      for await (const item of decoder) {
        if (item.kind === "directory-end") ends.push(item.path);
        else listing.push(await asListing(item));
      }
      t.deepEqual(listing, vector.listing);
      t.deepEqual(ends, ["/sub", "/"]);
      t.is(decoder.version, payload === null ? 1 : 2);
      t.is(decoder.prelude, null);
    });
  }

  test(`${vector.name}: the accessor finds every listed path with the same facts`, async (t) => {
    const archive = Buffer.from(vector.archive_hex, "hex");
    const payload = vector.payload_hex === null ? null : Buffer.from(vector.payload_hex, "hex");
    const readAt = (bytes: Buffer) => async (offset: number, length: number) =>
      bytes.subarray(offset, offset + length);
    const accessor = await PxarAccessor.open(
      readAt(archive),
      archive.length,
      payload === null ? {} : { payload: { readAt: readAt(payload), size: payload.length } },
    );
    for (const expected of vector.listing) {
      const entry = await accessor.lookup(expected.path);
      t.truthy(entry, expected.path);
      t.deepEqual(await asListing(entry!), expected);
    }
    t.is(await accessor.lookup("/nothing"), null);
    t.is(await accessor.lookup("/hello.txt/below-a-file"), null);
    const root = await accessor.root();
    t.deepEqual(
      (await accessor.list(root)).map((entry) => entry.path),
      ["/hello.txt", "/link", "/sub"],
    );
  });
}

test("tiny-v2 without its payload stream lists files with references and no content", async (t) => {
  const decoder = new PxarDecoder(asyncPieces(Buffer.from(tinyV2.archive_hex, "hex"), [64]));
  const files = [];
  for await (const item of decoder) {
    if (item.kind === "file")
      files.push({ path: item.path, ref: item.payloadRef, content: item.content });
  }
  t.deepEqual(files, [
    { path: "/hello.txt", ref: { offset: 16, size: 6 }, content: null },
    { path: "/sub/a", ref: { offset: 38, size: 1 }, content: null },
  ]);
});
