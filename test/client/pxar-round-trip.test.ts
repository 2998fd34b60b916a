import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { backupCommand } from "../../appliance/cli/client-backup.js";
import { restoreCommand } from "../../appliance/cli/client-restore.js";
import { formatSnapshotRef } from "../../appliance/client/snapshot-ref.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { buildEveryKindTree } from "./archive/every-kind-tree.js";
import { listTree } from "./archive/tree-listing.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

const T0 = 1_700_000_000;
const snapshotOf = (time: number) => formatSnapshotRef({ type: "host", id: "client1", time });

test("a tree with every entry kind is restored equal to its source, with a catalog beside it", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  const src = join(server.scratch, "src");
  await mkdir(src);
  const missing = await buildEveryKindTree(src);
  if (missing.length > 0) t.log(`not covered here: ${missing.join(", ")}`);

  const backup = await backupCommand(
    [`root.pxar:${src}`],
    { backupId: "client1", backupTime: String(T0) },
    env,
  );
  t.deepEqual(
    backup.manifest.files.map((file) => file.filename),
    ["root.pxar.didx", "catalog.pcat1.didx"],
  );
  t.is(backup.warnings, 0);

  const target = join(server.scratch, "restored");
  const restored = await restoreCommand(snapshotOf(T0), "root.pxar", target, {}, env);
  t.is(restored.extract?.warnings, 0);
  t.deepEqual(await listTree(target), await listTree(src));
});

test("an unchanged second backup uploads no chunk; changing one file uploads only its chunks", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  const src = join(server.scratch, "src");
  await mkdir(join(src, "sub"), { recursive: true });
  // files large enough to fill several chunks each
  for (const name of ["a.bin", "b.bin", "sub/c.bin"]) {
    await writeFile(join(src, name), pseudoRandomBuffer(9 * 1024 * 1024, name));
  }
  const options = { backupId: "client1" };
  const first = await backupCommand(
    [`root.pxar:${src}`],
    { ...options, backupTime: String(T0) },
    env,
  );
  const firstArchive = first.archives.find((each) => each.name === "root.pxar.didx")!.stats;
  t.true(
    firstArchive.uploadedChunks >= 4,
    `first backup uploads ${firstArchive.uploadedChunks} chunks`,
  );

  const second = await backupCommand(
    [`root.pxar:${src}`],
    { ...options, backupTime: String(T0 + 60) },
    env,
  );
  t.is(second.total.uploadedChunks, 0);
  t.is(second.total.uploadedBytes, 0);
  const stats = (
    await server.store.readManifest({ ns: [], type: "host", id: "client1", time: T0 + 60 })
  ).unprotected.chunk_upload_stats as { count: number };
  t.is(stats.count, 0);

  // rewrite the middle of one file: only chunks around it change
  const changed = pseudoRandomBuffer(9 * 1024 * 1024, "b.bin");
  changed.fill(0x5a, 4 * 1024 * 1024, 4 * 1024 * 1024 + 100);
  await rm(join(src, "b.bin"));
  await writeFile(join(src, "b.bin"), changed);
  const third = await backupCommand(
    [`root.pxar:${src}`],
    { ...options, backupTime: String(T0 + 120) },
    env,
  );
  const thirdArchive = third.archives.find((each) => each.name === "root.pxar.didx")!.stats;
  t.true(thirdArchive.uploadedChunks >= 1);
  t.true(
    thirdArchive.uploadedBytes < 3 * 4 * 1024 * 1024 * 1.5,
    `uploaded ${thirdArchive.uploadedBytes} of ${thirdArchive.bytes} bytes`,
  );
  t.true(thirdArchive.knownChunks >= firstArchive.uploadedChunks - 4);

  const target = join(server.scratch, "restored");
  await restoreCommand(snapshotOf(T0 + 120), "root.pxar", target, {}, env);
  t.deepEqual(await listTree(target), await listTree(src));
});
