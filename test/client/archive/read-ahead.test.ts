import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { buildEveryKindTree } from "./every-kind-tree.js";
import { archiveTree, tempDir } from "./fixtures.js";

/** Wider than the read-ahead window: many files and directories per level, a few levels deep. */
async function buildWideTree(root: string): Promise<void> {
  for (let d = 0; d < 6; d++) {
    const dir = join(root, `wide-${d}`, d % 2 === 0 ? "sub" : "");
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 45; f++) await writeFile(join(dir, `f${f}`), `file ${d}/${f}\n`);
    for (let s = 0; s < 3; s++) await mkdir(join(dir, `m${s * 20}`));
  }
  await writeFile(join(root, "wide-1", ".pxarexclude"), "f1*\n");
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

for (const split of [false, true]) {
  const label = split ? "split archive" : "v1 archive";

  test(`${label}: reading metadata ahead leaves the archive byte for byte the same`, async (t) => {
    const src = await tempDir(t);
    for (const note of await buildEveryKindTree(src)) t.log(`fixture: ${note}`);
    await buildWideTree(src);
    const archive = (readAhead: number) =>
      archiveTree(src, { split, withCatalog: true, readAhead, exclude: ["/wide-2/f4*"] });

    const oneByOne = await archive(0);
    t.true(oneByOne.counters.files > 200, `${oneByOne.counters.files} files`);
    for (const readAhead of [1, 3, 32]) {
      const ahead = await archive(readAhead);
      t.true(ahead.archive.equals(oneByOne.archive), `archive, read-ahead ${readAhead}`);
      t.true(sameBytes(ahead.payload, oneByOne.payload), `payload, read-ahead ${readAhead}`);
      t.true(sameBytes(ahead.catalog, oneByOne.catalog), `catalog, read-ahead ${readAhead}`);
      t.deepEqual(ahead.counters, oneByOne.counters);
      t.deepEqual(
        ahead.warnings.map((warning) => warning.message),
        oneByOne.warnings.map((warning) => warning.message),
      );
    }
  });
}

test("a negative read-ahead is refused", async (t) => {
  const src = await tempDir(t);
  await t.throwsAsync(archiveTree(src, { readAhead: -1 }), { instanceOf: RangeError });
});
