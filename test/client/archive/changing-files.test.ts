import { appendFile, mkdir, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { extractArchive } from "../../../appliance/client/archive/extractor.js";
import { pseudoRandomBuffer } from "../../helpers/generators.js";
import { archiveListing, archiveTree, decoderOf, tempDir } from "./fixtures.js";
import { listTree } from "./tree-listing.js";

const MiB = 1024 * 1024;

test("files that grow, shrink or vanish while archived are reported and the archive stays valid", async (t) => {
  const base = await tempDir(t);
  const src = join(base, "src");
  await mkdir(src);
  // 2 MiB is a whole number of reads: growth shows only by reading past the recorded size
  const grow = pseudoRandomBuffer(2 * MiB, "grow");
  const shrink = pseudoRandomBuffer(2 * MiB + 500_000, "shrink");
  await writeFile(join(src, "grow.bin"), grow);
  await writeFile(join(src, "shrink.bin"), shrink);
  await writeFile(join(src, "gone.txt"), "about to vanish\n");
  await writeFile(join(src, "steady.txt"), "unchanged\n");
  const seen: string[] = [];

  const archived = await archiveTree(src, {
    readSize: MiB,
    beforeFileRead: async (path) => {
      seen.push(path);
      if (path === "/grow.bin") await appendFile(join(src, "grow.bin"), Buffer.alloc(100_000, 7));
      if (path === "/shrink.bin") await truncate(join(src, "shrink.bin"), 1_500_000);
      if (path === "/gone.txt") await unlink(join(src, "gone.txt"));
    },
  });

  t.deepEqual(seen, ["/gone.txt", "/grow.bin", "/shrink.bin", "/steady.txt"]);
  t.deepEqual(
    archived.warnings.map((w) => `${w.kind} ${w.path}`),
    ["vanished /gone.txt", "grew /grow.bin", "shrank /shrink.bin"],
  );
  t.regex(archived.warnings[2]!.message, /1500000 of 2597152 bytes, padded with zeros/);
  t.is(archived.counters.bytesRead, 2 * MiB + 1_500_000 + 10);
  t.is(archived.counters.files, 3);

  const { lines, contents } = await archiveListing(archived);
  t.deepEqual(lines, [
    "/ directory",
    `/grow.bin file ${2 * MiB}`,
    `/shrink.bin file ${shrink.length}`,
    "/steady.txt file 10",
  ]);
  t.true(contents.get("/grow.bin")!.equals(grow), "cut at the size it was listed with");
  const padded = Buffer.concat([
    shrink.subarray(0, 1_500_000),
    Buffer.alloc(shrink.length - 1_500_000),
  ]);
  t.true(contents.get("/shrink.bin")!.equals(padded), "what was read, then zeros");

  const dst = join(base, "dst");
  await extractArchive(decoderOf(archived), dst);
  const restored = await listTree(dst);
  t.deepEqual(
    restored.map((entry) => `${entry.path} ${entry.size ?? ""}`),
    ["/ ", `/grow.bin ${2 * MiB}`, `/shrink.bin ${shrink.length}`, "/steady.txt 10"],
  );
});

test("a file replaced by a directory after listing is reported, not archived", async (t) => {
  const src = await tempDir(t);
  await writeFile(join(src, "was-a-file"), "x");
  const archived = await archiveTree(src, {
    beforeFileRead: async (path) => {
      await unlink(join(src, path));
      await mkdir(join(src, path));
    },
  });
  t.deepEqual(
    archived.warnings.map((w) => `${w.kind} ${w.path}`),
    ["changed-type /was-a-file"],
  );
  t.deepEqual((await archiveListing(archived)).lines, ["/ directory"]);
});
