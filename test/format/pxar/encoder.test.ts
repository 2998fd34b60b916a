import { PassThrough, Writable } from "node:stream";
import test from "ava";
import { PxarEncoder } from "../../../appliance/format/pxar/encoder.js";
import { ContentSizeMismatch } from "../../../appliance/format/pxar/errors.js";
import { collect, decodeAll, meta } from "./fixtures.js";

const ROOT = meta(0o40755);
const FILE = meta(0o100644);

async function newEncoder(options = {}) {
  const out: Buffer[] = [];
  const encoder = await PxarEncoder.create((c) => void out.push(c), ROOT, options);
  return { encoder, bytes: () => Buffer.concat(out) };
}

test("content longer than declared fails with ContentSizeMismatch and stops the encoder", async (t) => {
  const { encoder } = await newEncoder();
  await encoder.beginDirectory("d", ROOT);
  const error = await t.throwsAsync(
    () =>
      encoder.add("f", {
        kind: "file",
        metadata: FILE,
        size: 4,
        content: [Buffer.from("abc"), Buffer.from("de")],
      }),
    { instanceOf: ContentSizeMismatch },
  );
  t.is(error?.code, "CAIRN_E_FORMAT_OVERSIZE");
  t.is(error?.path, "d/f");
  t.is(error?.declared, 4);
  t.is(error?.received, 5);
  await t.throwsAsync(() => encoder.endDirectory(), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
    message: /earlier call failed/,
  });
});

test("content shorter than declared fails with ContentSizeMismatch", async (t) => {
  const { encoder } = await newEncoder();
  const error = await t.throwsAsync(
    () =>
      encoder.add("f", { kind: "file", metadata: FILE, size: 10, content: [Buffer.from("abc")] }),
    { instanceOf: ContentSizeMismatch },
  );
  t.is(error?.code, "CAIRN_E_FORMAT_TRUNCATED");
  t.deepEqual([error?.declared, error?.received], [10, 3]);
});

test("an entry whose mode is of another kind is refused", async (t) => {
  const { encoder } = await newEncoder();
  await t.throwsAsync(() => encoder.add("f", { kind: "fifo", metadata: FILE }), {
    message: /fifo entry has the mode of a file/,
  });
  const second = await newEncoder();
  await t.throwsAsync(() => second.encoder.beginDirectory("d", FILE), {
    code: "CAIRN_E_FORMAT_INVALID_ARGUMENT",
  });
  await t.throwsAsync(() => PxarEncoder.create(() => {}, FILE), {
    message: /root must be a directory/,
  });
});

for (const [name, why] of [
  ["", /empty/],
  [".", /'\.' or '\.\.'/],
  ["..", /'\.' or '\.\.'/],
  ["a/b", /contains '\/'/],
  ["nul\0", /contains NUL/],
  ["x".repeat(4097), /longer than 4096/],
] as const) {
  test(`the file name ${JSON.stringify(name.slice(0, 10))} is refused`, async (t) => {
    const { encoder } = await newEncoder();
    await t.throwsAsync(() => encoder.add(name, { kind: "fifo", metadata: meta(0o10644) }), {
      message: why,
    });
  });
}

test("an entry refused before writing leaves the encoder usable", async (t) => {
  const { encoder, bytes } = await newEncoder();
  await t.throwsAsync(() => encoder.add("a/b", { kind: "fifo", metadata: meta(0o10644) }));
  await t.throwsAsync(
    () => encoder.add("s", { kind: "symlink", metadata: meta(0o120777), target: "" }),
    { message: /symlink target/ },
  );
  await t.throwsAsync(
    () => encoder.add("f", { kind: "file", metadata: FILE, size: -1, content: [] }),
    { message: /file size/ },
  );
  const badXattr = meta(0o100644, 0, 0, {
    xattrs: [{ name: Buffer.alloc(0), value: Buffer.alloc(0) }],
  });
  await t.throwsAsync(
    () => encoder.add("x", { kind: "file", metadata: badXattr, size: 0, content: [] }),
    { message: /xattr name/ },
  );
  await t.throwsAsync(
    () => encoder.add("n", { kind: "fifo", metadata: meta(0o10644, 0, 1_000_000_000) }),
    { message: /nanos/ },
  );
  // the refused names were not taken
  await encoder.add("s", { kind: "symlink", metadata: meta(0o120777), target: "t" });
  await encoder.finish();
  t.deepEqual(
    (await decodeAll(bytes())).map((e) => [e.path, e.kind]),
    [
      ["/", "directory"],
      ["/s", "symlink"],
      ["/", "directory-end"],
    ],
  );
});

test("a name added twice to one directory is refused", async (t) => {
  const { encoder } = await newEncoder();
  await encoder.add("x", { kind: "fifo", metadata: meta(0o10644) });
  await t.throwsAsync(() => encoder.add("x", { kind: "socket", metadata: meta(0o140644) }), {
    message: /x added twice/,
  });
});

test("the same name in different directories is fine", async (t) => {
  const { encoder, bytes } = await newEncoder();
  await encoder.add("x", { kind: "fifo", metadata: meta(0o10644) });
  await encoder.beginDirectory("d", ROOT);
  await encoder.add("x", { kind: "fifo", metadata: meta(0o10644) });
  await encoder.endDirectory();
  await encoder.finish();
  t.deepEqual(
    (await decodeAll(bytes())).map((e) => e.path),
    ["/", "/x", "/d", "/d/x", "/d", "/"],
  );
});

test("directory calls must balance", async (t) => {
  const { encoder } = await newEncoder();
  await t.throwsAsync(() => encoder.endDirectory(), { message: /without an open subdirectory/ });
  const second = await newEncoder();
  await second.encoder.beginDirectory("d", ROOT);
  await t.throwsAsync(() => second.encoder.finish(), { message: /1 subdirectories still open/ });
});

test("overlapping calls are refused", async (t) => {
  const { encoder } = await newEncoder();
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* slow() {
    await gate;
    yield Buffer.from("x");
  }
  const first = encoder.add("slow", { kind: "file", metadata: FILE, size: 1, content: slow() });
  await t.throwsAsync(() => encoder.add("other", { kind: "fifo", metadata: meta(0o10644) }), {
    message: /must not overlap/,
  });
  release();
  await first;
  await encoder.finish();
  await t.throwsAsync(() => encoder.finish(), { message: /finished/ });
});

test("split-only features need a payload sink", async (t) => {
  const { encoder } = await newEncoder();
  await t.throwsAsync(
    () => encoder.add("r", { kind: "reused-file", metadata: FILE, size: 1, payloadOffset: 16 }),
    { message: /split archive/ },
  );
  await t.throwsAsync(() => encoder.advancePayload(5), { message: /split archive/ });
  await t.throwsAsync(() => PxarEncoder.create(() => {}, ROOT, { prelude: Buffer.from("x") }), {
    message: /prelude/,
  });
});

test("a payload reference behind the payload position is refused", async (t) => {
  const { encoder } = await newEncoder({ payload: () => {} });
  t.is(encoder.payloadPosition, 16);
  await encoder.add("f", { kind: "file", metadata: FILE, size: 3, content: [Buffer.from("abc")] });
  t.is(encoder.payloadPosition, 16 + 16 + 3);
  await t.throwsAsync(
    () => encoder.add("r", { kind: "reused-file", metadata: FILE, size: 1, payloadOffset: 20 }),
    { message: /before the payload position/ },
  );
});

test("hard links return targets only for regular files and must point back", async (t) => {
  const { encoder, bytes } = await newEncoder();
  t.is(await encoder.add("p", { kind: "fifo", metadata: meta(0o10644) }), null);
  const target = await encoder.add("f", { kind: "file", metadata: FILE, size: 0, content: [] });
  t.deepEqual(target?.path, Buffer.from("f"));
  await encoder.add("g", { kind: "hardlink", target: target! });
  const position = encoder.position;
  const ahead = await newEncoder();
  await t.throwsAsync(
    () =>
      ahead.encoder.add("h", {
        kind: "hardlink",
        target: { start: 10_000, path: Buffer.from("f") },
      }),
    { message: /earlier file/ },
  );
  await encoder.finish();
  t.true(bytes().length > position);
});

test("a Writable sink gets the archive, with backpressure honoured", async (t) => {
  const received: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk, _encoding, callback) {
      received.push(chunk);
      setImmediate(callback);
    },
  });
  const encoder = await PxarEncoder.create(slow, ROOT);
  const big = Buffer.alloc(300_000, 7);
  await encoder.add("big", {
    kind: "file",
    metadata: FILE,
    size: big.length,
    content: [big.subarray(0, 100_000), big.subarray(100_000)],
  });
  await encoder.finish();
  await new Promise<void>((resolve) => slow.end(resolve));
  const listing = await decodeAll(Buffer.concat(received));
  t.is(listing[1]?.size, big.length);
});

test("a stream sink can be piped straight into a decoder", async (t) => {
  const pipe = new PassThrough();
  const encoding = (async () => {
    const encoder = await PxarEncoder.create(pipe, ROOT);
    await encoder.add("f", { kind: "file", metadata: FILE, size: 2, content: [Buffer.from("ok")] });
    const summary = await encoder.finish();
    pipe.end();
    return summary;
  })();
  const archive = await collect(pipe);
  const summary = await encoding;
  t.is(summary.archiveSize, archive.length);
  t.is(summary.payloadSize, null);
});
