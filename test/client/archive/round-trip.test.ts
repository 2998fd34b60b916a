import { lstat, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { extractArchive } from "../../../appliance/client/archive/extractor.js";
import type { ArchiveWarning } from "../../../appliance/client/archive/warnings.js";
import { CatalogReader } from "../../../appliance/format/catalog-reader.js";
import { BIG_SIZE, buildEveryKindTree, SPARSE_SIZE } from "./every-kind-tree.js";
import { archiveTree, decoderOf, hasCommand, isRoot, run, tempDir } from "./fixtures.js";
import { listTree } from "./tree-listing.js";

for (const split of [false, true]) {
  const label = split ? "split archive" : "v1 archive";

  test(`${label}: a tree of every entry kind is restored equal to its source`, async (t) => {
    const base = await tempDir(t);
    const src = join(base, "src");
    const dst = join(base, "dst");
    await mkdir(src);
    for (const note of await buildEveryKindTree(src)) t.log(`fixture: ${note}`);
    // a normal user cannot open a mode-000 file: that one is reported and left out
    const unreadable = isRoot ? [] : ["/secret"];

    const archived = await archiveTree(src, { split, withCatalog: true, readSize: 1024 * 1024 });
    t.deepEqual(
      archived.warnings.map((warning) => `${warning.kind} ${warning.path}`),
      unreadable.map((path) => `unreadable ${path}`),
    );

    const warnings: ArchiveWarning[] = [];
    const counters = await extractArchive(decoderOf(archived), dst, {
      onWarning: (warning) => warnings.push(warning),
    });
    t.deepEqual(warnings, []);

    const source = await listTree(src, { skip: unreadable });
    t.deepEqual(await listTree(dst), source);
    t.true(source.length >= 20, `the fixture has ${source.length} entries`);

    // each inode's bytes are read once, whatever its number of names
    const distinct = source.filter(
      (entry) => entry.type === "file" && (entry.linkGroup ?? entry.path) === entry.path,
    );
    t.is(archived.counters.bytesRead, sum(distinct.map((entry) => entry.size ?? 0)));
    t.is(archived.counters.hardlinks, 2);
    t.is(counters.hardlinks, 2);
    t.true(archived.counters.bytesRead > SPARSE_SIZE + BIG_SIZE);

    // holes stay holes: only the written 4 KiB blocks take space
    const sparse = await lstat(join(dst, "sparse.img"));
    t.is(sparse.size, SPARSE_SIZE);
    t.true(sparse.blocks * 512 <= 64 * 1024, `sparse.img takes ${sparse.blocks * 512} bytes`);
    t.true(counters.bytesWritten < archived.counters.bytesRead - SPARSE_SIZE + 64 * 1024);
  });
}

test("ACLs and capabilities read back the same through getfacl and getcap", async (t) => {
  const base = await tempDir(t);
  const src = join(base, "src");
  const dst = join(base, "dst");
  await mkdir(src);
  await buildEveryKindTree(src);
  // a normal user cannot archive the mode-000 file
  if (!isRoot) await rm(join(src, "secret"));
  await extractArchive(decoderOf(await archiveTree(src)), dst);
  if (await hasCommand("getfacl")) {
    const acls = async (dir: string) =>
      (await run("getfacl", ["-R", "-P", "-n", "."], { cwd: dir })).stdout;
    const restored = await acls(dst);
    t.is(restored, await acls(src));
    t.regex(restored, /# file: acl-file\n(?:.*\n)*?user:1234:rw-\n/);
    t.regex(restored, /# file: acl-dir\n(?:.*\n)*?default:group:5678:r-x\n/);
  } else {
    t.log("getfacl not installed (Debian package acl): ACL bytes compared by the listing only");
  }
  if (isRoot && (await hasCommand("getcap"))) {
    const caps = async (dir: string) => (await run("getcap", ["-r", "."], { cwd: dir })).stdout;
    t.is(await caps(dst), await caps(src));
    t.regex(await caps(dst), /caps cap_net_bind_service,cap_net_raw=ep/);
  }
});

test("the catalog lists what the archive holds, in archive order", async (t) => {
  const base = await tempDir(t);
  const src = join(base, "src");
  await mkdir(src);
  await buildEveryKindTree(src);
  const archived = await archiveTree(src, { withCatalog: true });
  const catalog = await CatalogReader.fromBuffer(archived.catalog!);
  const entries = new Map<string, string>();
  for await (const { path, entry } of catalog.walk()) {
    const extra = entry.kind === "file" ? ` ${entry.size} ${entry.mtime}` : "";
    entries.set(path, `${entry.kind}${extra}`);
  }
  const at = (path: string) => entries.get(`/root.pxar.didx${path}`);
  t.is(at(""), "directory");
  t.is(at("/small.txt"), "file 15 -310157633");
  const shared = await lstat(join(src, "hard-a"), { bigint: true });
  t.is(at("/dir/hard-b"), `file 13 ${shared.mtimeNs / 1_000_000_000n}`);
  t.is(at("/hard-a"), "hardlink");
  t.is(at("/dir/dangling"), "symlink");
  t.is(at("/fifo"), "fifo");
  t.is(at("/socket"), "socket");
  t.is(at("/dir/nested/deep"), "directory");
  if (isRoot) {
    t.is(at("/char-dev"), "char-device");
    t.is(at("/block-dev"), "block-device");
  }
  const names = [...entries.keys()].filter((path) => path.split("/").length === 3);
  t.deepEqual(
    names,
    [...names].sort((a, b) => Buffer.compare(Buffer.from(a, "latin1"), Buffer.from(b, "latin1"))),
  );
});

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
