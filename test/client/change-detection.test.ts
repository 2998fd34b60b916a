import { mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { backupCommand } from "../../appliance/cli/client-backup.js";
import { restoreCommand } from "../../appliance/cli/client-restore.js";
import type { BackupResult } from "../../appliance/client/backup-run.js";
import { formatSnapshotRef } from "../../appliance/client/snapshot-ref.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { buildEveryKindTree } from "./archive/every-kind-tree.js";
import { listTree } from "./archive/tree-listing.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

const T0 = 1_700_000_000;
const MiB = 1024 * 1024;
const snapshotOf = (time: number) => formatSnapshotRef({ type: "host", id: "client1", time });

const archive = (result: BackupResult, name: string) =>
  result.archives.find((each) => each.name === name)!;

/**
 * Content repeating every 64 bytes: no window of the chunker's hash finds a cut in it, so each
 * large file's payload is a chunk of its own (cut where the file starts) and the counts below
 * are exact.
 */
function periodic(length: number, seed: string): Buffer {
  const period = pseudoRandomBuffer(64, seed);
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += 64) period.copy(out, at);
  return out;
}

for (const mode of ["data", "metadata"] as const) {
  test(`a tree with every entry kind round-trips as a split archive in ${mode} mode, twice`, async (t) => {
    const server = await startClientServer(t);
    const env = capturedEnvironment(server.env);
    const src = join(server.scratch, "src");
    await mkdir(src);
    await buildEveryKindTree(src);
    const options = { backupId: "client1", changeDetectionMode: mode };

    const results: BackupResult[] = [];
    for (const time of [T0, T0 + 60]) {
      const backup = await backupCommand(
        [`root.pxar:${src}`],
        { ...options, backupTime: String(time) },
        env,
      );
      // no catalog: the .mpxar serves for browsing, as with PBS
      t.deepEqual(
        backup.manifest.files.map((file) => file.filename),
        ["root.mpxar.didx", "root.ppxar.didx"],
      );
      t.is(backup.warnings, 0);
      results.push(backup);
      const target = join(server.scratch, `restored-${time}`);
      const restored = await restoreCommand(snapshotOf(time), "root.pxar", target, {}, env);
      t.is(restored.extract?.warnings, 0);
      t.deepEqual(await listTree(target), await listTree(src));
    }
    const content = archive(results[1]!, "root.mpxar.didx").content!;
    if (mode === "data") {
      t.true(content.bytesRead > 3 * MiB);
      t.is(content.reuse, undefined);
    } else {
      // the sparse image and a few small files stay unread (how many depends on chunk layout)
      t.true(content.reuse!.reusedFiles > 0);
      t.true(content.bytesRead < archive(results[0]!, "root.mpxar.didx").content!.bytesRead);
    }
  });
}

test("metadata mode: an unchanged tree is neither read nor uploaded; one changed file is all that is", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  const src = join(server.scratch, "src");
  await mkdir(join(src, "sub"), { recursive: true });
  await mkdir(join(src, "z-small"));
  const sizes: Record<string, number> = {
    "a.bin": 3 * MiB,
    "b.bin": 2 * MiB + 7,
    "sub/c.bin": 3 * MiB,
  };
  for (const [name, size] of Object.entries(sizes)) {
    await writeFile(join(src, name), periodic(size, name));
  }
  // small files after the large ones share chunks with each other
  for (let i = 0; i < 40; i++) {
    await writeFile(join(src, `z-small/${i}.txt`), pseudoRandomBuffer(3000 + i, `small${i}`));
  }
  const options = { backupId: "client1", changeDetectionMode: "metadata" };
  const backup = (time: number) =>
    backupCommand([`root.pxar:${src}`], { ...options, backupTime: String(time) }, env);

  // no previous snapshot: everything is read
  const first = await backup(T0);
  const treeBytes = Object.values(sizes).reduce((a, b) => a + b, 0);
  t.true(archive(first, "root.mpxar.didx").content!.bytesRead > treeBytes);
  t.is(archive(first, "root.mpxar.didx").content!.reuse!.reusedFiles, 0);

  const second = await backup(T0 + 60);
  const unchanged = archive(second, "root.mpxar.didx").content!;
  t.is(unchanged.bytesRead, 0);
  t.is(unchanged.reuse!.reusedFiles, 43);
  t.is(unchanged.reuse!.reencodedFiles, 0);
  t.is(second.total.uploadedChunks, 0);
  t.is(second.total.uploadedBytes, 0);
  const stats = (
    await server.store.readManifest({ ns: [], type: "host", id: "client1", time: T0 + 60 })
  ).unprotected.chunk_upload_stats as { count: number };
  t.is(stats.count, 0);
  await restoreCommand(
    snapshotOf(T0 + 60),
    "root.pxar",
    join(server.scratch, "unchanged"),
    {},
    env,
  );
  t.deepEqual(await listTree(join(server.scratch, "unchanged")), await listTree(src));

  // same size, other bytes, other mtime
  await writeFile(join(src, "b.bin"), periodic(sizes["b.bin"]!, "b.bin changed"));
  await utimes(join(src, "b.bin"), T0 + 100, T0 + 100);
  const third = await backup(T0 + 120);
  const changed = archive(third, "root.mpxar.didx").content!;
  t.is(changed.bytesRead, sizes["b.bin"]!);
  t.is(changed.reuse!.reusedFiles, 42);
  const payload = archive(third, "root.ppxar.didx").stats;
  t.is(payload.uploadedChunks, 1);
  t.is(payload.uploadedBytes, 16 + sizes["b.bin"]!); // its PAYLOAD header and bytes
  t.true(payload.knownChunks >= 3);

  await restoreCommand(snapshotOf(T0 + 120), "root.pxar", join(server.scratch, "changed"), {}, env);
  t.deepEqual(await listTree(join(server.scratch, "changed")), await listTree(src));
});
