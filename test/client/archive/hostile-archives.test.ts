import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { ArchiveError } from "../../../appliance/client/archive/errors.js";
import { extractArchive } from "../../../appliance/client/archive/extractor.js";
import { PxarEncoder } from "../../../appliance/format/pxar/encoder.js";
import type { DecodedItem, PxarEntry } from "../../../appliance/format/pxar/entries.js";
import { type Metadata, metadataOf } from "../../../appliance/format/pxar/types.js";
import { decoderOf, tempDir } from "./fixtures.js";

function meta(mode: number): Metadata {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return metadataOf({ mode, flags: 0, uid, gid, mtime: { secs: 1_000_000, nanos: 0 } });
}

const ROOT: PxarEntry = {
  kind: "directory",
  path: "/",
  pathBytes: Buffer.from("/"),
  name: Buffer.alloc(0),
  fileOffset: null,
  metadata: meta(0o40755),
};

/** An entry as a (hostile) decoder could hand it out; the name is taken at face value. */
function entry(name: string, body: Record<string, unknown>): PxarEntry {
  return {
    path: `/${name}`,
    pathBytes: Buffer.from(`/${name}`),
    name: Buffer.from(name),
    fileOffset: 1,
    ...body,
  } as unknown as PxarEntry;
}

function file(name: string, content: string): PxarEntry {
  const bytes = Buffer.from(content);
  return entry(name, {
    kind: "file",
    metadata: meta(0o100644),
    size: bytes.length,
    payloadRef: null,
    content: (async function* () {
      yield bytes;
    })(),
  });
}

const symlink = (name: string, target: string) =>
  entry(name, { kind: "symlink", metadata: meta(0o120777), target: Buffer.from(target) });
const directory = (name: string) => entry(name, { kind: "directory", metadata: meta(0o40755) });
const END: DecodedItem = { kind: "directory-end", path: "/", pathBytes: Buffer.from("/") };

async function* stream(items: DecodedItem[]): AsyncGenerator<DecodedItem> {
  yield* items;
}

/** A target inside a sandbox, with a victim file beside the target that must stay untouched. */
async function sandbox(t: Parameters<typeof tempDir>[0]) {
  const base = await tempDir(t);
  const target = join(base, "target");
  const outside = join(base, "outside");
  await mkdir(outside);
  await writeFile(join(outside, "victim"), "original\n");
  const untouched = async () => {
    t.deepEqual(await readdir(outside), ["victim"]);
    t.is(await readFile(join(outside, "victim"), "utf8"), "original\n");
  };
  return { base, target, outside, untouched };
}

for (const name of ["..", ".", "a/b", "", "nul\0byte"]) {
  test(`an entry named ${JSON.stringify(name)} is refused`, async (t) => {
    const { target, untouched } = await sandbox(t);
    const error = await t.throwsAsync(
      extractArchive(stream([ROOT, file(name, "escaped\n"), END]), target),
      { instanceOf: ArchiveError },
    );
    t.is(error?.kind, "unsafe-path");
    await untouched();
  });
}

test("a directory whose name a symlink already holds is not followed", async (t) => {
  const { target, outside, untouched } = await sandbox(t);
  const items = [ROOT, symlink("evil", outside), directory("evil"), file("planted", "x"), END, END];
  const error = await t.throwsAsync(extractArchive(stream(items), target), {
    instanceOf: ArchiveError,
  });
  t.is(error?.kind, "unsafe-path");
  t.regex(error!.message, /\/evil: a symlink is in the way/);
  await untouched();
});

test("a file whose name a symlink already holds is not written through it", async (t) => {
  const { target, outside, untouched } = await sandbox(t);
  const items = [
    ROOT,
    symlink("evil", join(outside, "victim")),
    file("evil", "overwritten\n"),
    END,
  ];
  const error = await t.throwsAsync(extractArchive(stream(items), target), {
    instanceOf: ArchiveError,
  });
  t.is(error?.kind, "unsafe-path");
  await untouched();
  t.true((await lstat(join(target, "evil"))).isSymbolicLink());
});

test("an existing file in the target is not replaced", async (t) => {
  const { target } = await sandbox(t);
  await mkdir(target);
  await writeFile(join(target, "present"), "mine\n");
  const error = await t.throwsAsync(
    extractArchive(stream([ROOT, file("present", "theirs\n"), END]), target),
    { instanceOf: ArchiveError },
  );
  t.is(error?.kind, "exists");
  t.is(await readFile(join(target, "present"), "utf8"), "mine\n");
});

/** A real archive (through encoder and decoder) whose hard link names `linkTarget`. */
async function hardlinkArchive(linkTarget: string, withSymlink?: string) {
  const archive: Buffer[] = [];
  const encoder = await PxarEncoder.create((piece) => void archive.push(piece), meta(0o40755));
  const first = await encoder.add("a-file", {
    kind: "file",
    metadata: meta(0o100644),
    size: 1,
    content: [Buffer.from("x")],
  });
  if (withSymlink !== undefined) {
    await encoder.add("b-link", { kind: "symlink", metadata: meta(0o120777), target: withSymlink });
  }
  await encoder.add("z-hardlink", {
    kind: "hardlink",
    target: { start: first!.start, path: Buffer.from(linkTarget) },
  });
  await encoder.finish();
  return { archive: Buffer.concat(archive), payload: null };
}

for (const [label, linkTarget, symlinkTo] of [
  ["a parent reference", "../outside/victim", undefined],
  ["an absolute path", "/etc/passwd", undefined],
  ["a path through a symlink", "b-link/victim", "../outside"],
  ["a symlink pointing outside", "b-link", "../outside/victim"],
] as const) {
  test(`a hard link to ${label} is refused`, async (t) => {
    const { target, untouched } = await sandbox(t);
    const archived = await hardlinkArchive(linkTarget, symlinkTo);
    const error = await t.throwsAsync(extractArchive(decoderOf(archived), target), {
      instanceOf: ArchiveError,
    });
    t.is(error?.kind, "unsafe-path");
    await untouched();
    t.false((await readdir(target)).includes("z-hardlink"));
  });
}

test("a hard link inside the archive is restored as a link", async (t) => {
  const { target } = await sandbox(t);
  await extractArchive(decoderOf(await hardlinkArchive("a-file")), target);
  const [a, z] = await Promise.all([
    lstat(join(target, "a-file")),
    lstat(join(target, "z-hardlink")),
  ]);
  t.is(a.ino, z.ino);
  t.is(a.nlink, 2);
});

test("bytes patched into an escaping name are refused before anything is written", async (t) => {
  const { target, untouched } = await sandbox(t);
  const archive: Buffer[] = [];
  const encoder = await PxarEncoder.create((piece) => void archive.push(piece), meta(0o40755));
  await encoder.add("XX", {
    kind: "file",
    metadata: meta(0o100644),
    size: 4,
    content: [Buffer.from("evil")],
  });
  await encoder.finish();
  const bytes = Buffer.concat(archive);
  const at = bytes.indexOf("XX\0");
  bytes.write("..", at);
  await t.throwsAsync(extractArchive(decoderOf({ archive: bytes, payload: null }), target));
  await untouched();
  t.deepEqual(await readdir(target), []);
});
