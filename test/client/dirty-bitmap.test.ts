import { access, open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { backupCommand } from "../../appliance/cli/client-backup.js";
import { restoreCommand } from "../../appliance/cli/client-restore.js";
import { DirtyBitmap, dirtyBitmapLength } from "../../appliance/client/dirty-bitmap.js";
import { incrementalBase } from "../../appliance/client/image-upload.js";
import { newManifest } from "../../appliance/format/manifest.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const T0 = 1_700_000_000;
// 10 full chunks and a short eleventh: the bitmap has 2 bytes
const SIZE = 10 * CHUNK + 12_345;
const VM = { backupId: "vm1", backupType: "vm" };

function bitmapOf(chunks: readonly number[], length = dirtyBitmapLength(SIZE)): Buffer {
  const bits = Buffer.alloc(length);
  for (const chunk of chunks) bits[chunk >> 3]! |= 1 << (chunk & 7);
  return bits;
}

async function overwrite(path: string, position: number, text: string): Promise<void> {
  const handle = await open(path, "r+");
  await handle.write(Buffer.from(text), 0, text.length, position);
  await handle.close();
}

test("the bitmap is one bit per 4 MiB chunk, least significant bit first", (t) => {
  t.is(dirtyBitmapLength(SIZE), 2);
  t.is(dirtyBitmapLength(8 * CHUNK), 1);
  const bitmap = DirtyBitmap.parse(Buffer.from([0b0000_0101, 0b0000_0100]), SIZE);
  t.deepEqual([...bitmap.dirtyChunks()], [0, 2, 10]);
  t.is(bitmap.dirtyCount, 3);
  t.throws(() => DirtyBitmap.parse(Buffer.from([0, 0b0000_1000]), SIZE), {
    message: /marks chunk 11, but the image has only 11 chunks/,
  });
  t.throws(() => DirtyBitmap.parse(Buffer.alloc(3), SIZE), {
    message: /has 3 bytes; .* needs exactly 2/,
  });
});

test("an incremental base needs the same archive, crypt mode and size", (t) => {
  const manifest = {
    ...newManifest({ backupType: "vm", backupId: "vm1", backupTime: T0 }),
    files: [{ filename: "disk.img.fidx", cryptMode: "none" as const, size: SIZE, csum: "ab" }],
  };
  t.true("entry" in incrementalBase(manifest, "disk.img.fidx", "none", SIZE));
  t.regex(reasonOf(incrementalBase(undefined, "disk.img.fidx", "none", SIZE)), /no usable/);
  t.regex(reasonOf(incrementalBase(manifest, "other.img.fidx", "none", SIZE)), /has no other/);
  t.regex(reasonOf(incrementalBase(manifest, "disk.img.fidx", "encrypt", SIZE)), /stored none/);
  t.regex(
    reasonOf(incrementalBase(manifest, "disk.img.fidx", "none", SIZE + 1)),
    /the previous one had \d+/,
  );
});

function reasonOf(base: ReturnType<typeof incrementalBase>): string {
  return "reason" in base ? base.reason : "";
}

test("a dirty-bitmap incremental reads and sends only the dirty chunks", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  const source = join(server.scratch, "disk.raw");
  const original = pseudoRandomBuffer(SIZE, "disk");
  await writeFile(source, original);
  await backupCommand([`disk.img:${source}`], { ...VM, backupTime: String(T0) }, env);

  await overwrite(source, 2 * CHUNK + 100, "second backup, chunk 2");
  await overwrite(source, 10 * CHUNK + 5, "second backup, the tail");
  const bitmapPath = join(server.scratch, "dirty.bitmap");
  await writeFile(bitmapPath, bitmapOf([2, 10]));
  const second = await backupCommand(
    [`disk.img:${source}`],
    { ...VM, backupTime: String(T0 + 1), dirtyBitmap: bitmapPath },
    env,
  );
  const archive = second.archives[0]!;
  t.is(archive.content?.bytesRead, CHUNK + 12_345, "chunk 2 and the tail, nothing else");
  t.is(archive.stats.chunks, 2);
  t.is(archive.stats.uploadedChunks, 2);
  t.is(second.manifest.files[0]!.size, SIZE);
  t.is(second.warnings, 0);
  const modified = await readFile(source);
  const restored = join(server.scratch, "restored.raw");
  await restoreCommand("vm/vm1/2023-11-14T22:13:21Z", "disk.img", restored, {}, env);
  t.true((await readFile(restored)).equals(modified));

  // clean chunks come from the previous snapshot, not the disk: a change the bitmap does not mark
  // is absent from the next snapshot; chunk 7, marked but unchanged, is known and not sent again
  await overwrite(source, 5 * CHUNK, "unmarked change");
  await writeFile(bitmapPath, bitmapOf([7]));
  const third = await backupCommand(
    [`disk.img:${source}`],
    { ...VM, backupTime: String(T0 + 2), dirtyBitmap: bitmapPath },
    env,
  );
  t.is(third.archives[0]!.content?.bytesRead, CHUNK);
  t.is(third.archives[0]!.stats.uploadedChunks, 0, "chunk 7's digest is known");
  t.is(third.archives[0]!.stats.knownChunks, 1);
  await restoreCommand("vm/vm1/2023-11-14T22:13:22Z", "disk.img", restored, {}, env);
  t.true((await readFile(restored)).equals(modified), "the unmarked change to chunk 5 is absent");
});

test("a bitmap of the wrong length is refused before connecting, naming the length needed", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  const source = join(server.scratch, "disk.raw");
  await writeFile(source, pseudoRandomBuffer(SIZE, "disk"));
  const bitmapPath = join(server.scratch, "dirty.bitmap");
  await writeFile(bitmapPath, Buffer.alloc(3));
  await t.throwsAsync(
    backupCommand(
      [`disk.img:${source}`],
      { ...VM, backupTime: String(T0), dirtyBitmap: bitmapPath },
      env,
    ),
    { message: /dirty bitmap .* has 3 bytes; an image of \d+ bytes \(11 chunks .*needs exactly 2/ },
  );
  await t.throwsAsync(access(join(server.storePath, "vm", "vm1")), { code: "ENOENT" });
});

test("a bitmap without a previous snapshot reads the whole image, with a warning", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  const source = join(server.scratch, "disk.raw");
  const image = pseudoRandomBuffer(SIZE, "disk");
  await writeFile(source, image);
  const bitmapPath = join(server.scratch, "dirty.bitmap");
  await writeFile(bitmapPath, bitmapOf([])); // honoured, it would read nothing
  const backup = await backupCommand(
    [`disk.img:${source}`],
    { ...VM, backupTime: String(T0), dirtyBitmap: bitmapPath },
    env,
  );
  t.is(backup.archives[0]!.content?.bytesRead, SIZE);
  t.is(backup.archives[0]!.stats.chunks, 11);
  t.is(backup.warnings, 1);
  t.true(
    env.notes.some((line) =>
      /warning: --dirty-bitmap not used for disk\.img\.fidx: there is no usable previous snapshot/.test(
        line,
      ),
    ),
    env.notes.join("\n"),
  );
  const restored = join(server.scratch, "restored.raw");
  await restoreCommand("vm/vm1/2023-11-14T22:13:20Z", "disk.img", restored, {}, env);
  t.true((await readFile(restored)).equals(image));
});
