import { open, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { backupCommand } from "../../appliance/cli/client-backup.js";
import { restoreCommand } from "../../appliance/cli/client-restore.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

const MiB = 1024 * 1024;
const T0 = 1_700_000_000;

test("an image round trip: zero chunks uploaded once and restored as holes", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  // 6 chunks of 4 MiB: data, zero, zero, data, zero, and a short tail of data
  const size = 5 * 4 * MiB + 123_456;
  const image = Buffer.alloc(size);
  pseudoRandomBuffer(4 * MiB, "first").copy(image, 0);
  pseudoRandomBuffer(4 * MiB, "fourth").copy(image, 3 * 4 * MiB);
  pseudoRandomBuffer(123_456, "tail").copy(image, 5 * 4 * MiB);
  const source = join(server.scratch, "disk.raw");
  await writeFile(source, image);

  const backup = await backupCommand(
    [`disk.img:${source}`],
    { backupId: "vm1", backupType: "vm", backupTime: String(T0) },
    env,
  );
  const stats = backup.archives[0]!.stats;
  t.is(stats.chunks, 6);
  t.is(stats.uploadedChunks, 4, "three zero chunks, one upload");
  t.deepEqual(
    backup.manifest.files.map((file) => file.filename),
    ["disk.img.fidx"],
  );
  t.is(backup.manifest.files[0]!.size, size);

  const target = join(server.scratch, "restored.raw");
  await restoreCommand(`vm/vm1/2023-11-14T22:13:20Z`, "disk.img", target, {}, env);
  t.true((await readFile(target)).equals(image));
  const blocks = (await stat(target)).blocks * 512;
  t.true(blocks <= size - 3 * 4 * MiB + 64 * 1024, `restored file occupies ${blocks} bytes`);

  // to stdout
  const piped = capturedEnvironment(server.env);
  await restoreCommand(`vm/vm1/2023-11-14T22:13:20Z`, "disk.img", "-", {}, piped);
  t.true(piped.output().equals(image));
});

test("an image backed up again after one block changed uploads that chunk only", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  const source = join(server.scratch, "disk.raw");
  await writeFile(source, pseudoRandomBuffer(4 * 4 * MiB, "disk"));
  const options = { backupId: "vm1", backupType: "vm" };
  await backupCommand([`disk.img:${source}`], { ...options, backupTime: String(T0) }, env);
  const handle = await open(source, "r+");
  await handle.write(Buffer.from("changed"), 0, 7, 2 * 4 * MiB + 10);
  await handle.close();
  const second = await backupCommand(
    [`disk.img:${source}`],
    { ...options, backupTime: String(T0 + 1) },
    env,
  );
  t.is(second.total.uploadedChunks, 1);
  t.is(second.total.knownChunks, 3);
  const target = join(server.scratch, "restored.raw");
  await restoreCommand(`vm/vm1/2023-11-14T22:13:21Z`, "disk.img", target, {}, env);
  t.true((await readFile(target)).equals(await readFile(source)));
});
