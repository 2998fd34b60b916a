import { chmod, chown, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { hasCommand, isRoot, run } from "./archive/fixtures.js";
import { runCairn } from "./fixtures/cli.js";
import { startClientServer } from "./fixtures/server.js";

const asRoot = isRoot ? test.serial : test.skip;

/** Root without the capabilities that let it read any file: permissions apply to it again. */
const WITHOUT_DAC_OVERRIDE = [
  "setpriv",
  "--inh-caps=-dac_override,-dac_read_search",
  "--bounding-set=-dac_override,-dac_read_search",
];

const SNAPSHOT = "host/errors/2023-11-14T22:13:20Z";
const BACKUP_AT = ["--backup-id", "errors", "--backup-time", "1700000000"];

asRoot("unreadable entries are left out, named in a summary, and fail the backup", async (t) => {
  if (!(await hasCommand("setpriv"))) return t.pass("setpriv (util-linux) not installed");
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  await mkdir(join(src, "closed"), { recursive: true });
  await writeFile(join(src, "readable.txt"), "still backed up\n");
  await writeFile(join(src, "secret"), "nobody may read this\n");
  await writeFile(join(src, "closed", "inside"), "behind a closed directory\n");
  await chown(join(src, "secret"), 1234, 1234);
  await chmod(join(src, "secret"), 0o000);
  await chown(join(src, "closed"), 1234, 1234);
  await chmod(join(src, "closed"), 0o000);

  const backup = await runCairn(
    ["backup", `root.pxar:${src}`, ...BACKUP_AT],
    server.env,
    undefined,
    WITHOUT_DAC_OVERRIDE,
  );

  t.is(backup.status, 1, backup.stderr);
  t.regex(backup.stderr, /^warning: \/closed: cannot read: EACCES/m);
  t.regex(backup.stderr, /^warning: \/secret: cannot read: EACCES/m);
  t.regex(backup.stderr, /^backup host\/errors\/2023-11-14T22:13:20Z: /m);
  const summary = backup.stderr.slice(backup.stderr.indexOf("backup incomplete"));
  t.regex(summary, /^backup incomplete: 2 entries missing or only partly backed up:\n/);
  t.regex(summary, /^ {2}\/closed: cannot read: EACCES/m);
  t.regex(summary, /^ {2}\/secret: cannot read: EACCES/m);

  // the snapshot was still made, with everything that could be read
  const target = join(server.scratch, "restored");
  const restore = await runCairn(["restore", SNAPSHOT, "root.pxar", target], server.env);
  t.is(restore.status, 0, restore.stderr);
  t.deepEqual(await readdir(target), ["readable.txt"]);
  t.is(await readFile(join(target, "readable.txt"), "utf8"), "still backed up\n");
});

asRoot("a skipped mount point is a warning but no data is missing: exit 0", async (t) => {
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  const mounted = join(src, "mnt");
  await mkdir(mounted, { recursive: true });
  await writeFile(join(src, "file.txt"), "here\n");
  try {
    await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mounted]);
  } catch (error) {
    return t.pass(`cannot mount a tmpfs here: ${(error as Error).message}`);
  }
  t.teardown(() => run("umount", [mounted]).then(() => undefined));
  await writeFile(join(mounted, "elsewhere.txt"), "on another file system\n");

  const backup = await runCairn(["backup", `root.pxar:${src}`, ...BACKUP_AT], server.env);

  t.is(backup.status, 0, backup.stderr);
  t.regex(backup.stderr, /^warning: \/mnt: not descending into another file system$/m);
  t.regex(backup.stderr, /^1 warnings \(see above\); no data is missing$/m);
  t.notRegex(backup.stderr, /incomplete/);
});

asRoot("a restore into a full file system stops naming the file and exits 1", async (t) => {
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  const target = join(server.scratch, "full");
  await mkdir(src);
  await mkdir(target);
  await writeFile(join(src, "small.txt"), "fits\n");
  await writeFile(join(src, "zz-big.bin"), pseudoRandomBuffer(3 * 1024 * 1024, "no-space"));
  const backup = await runCairn(["backup", `root.pxar:${src}`, ...BACKUP_AT], server.env);
  t.is(backup.status, 0, backup.stderr);
  try {
    await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", target]);
  } catch (error) {
    return t.pass(`cannot mount a tmpfs here: ${(error as Error).message}`);
  }
  t.teardown(() => run("umount", [target]).then(() => undefined));

  const restore = await runCairn(["restore", SNAPSHOT, "root.pxar", target], server.env);

  t.is(restore.status, 1);
  t.is(
    restore.stderr.trim(),
    "cairn: no space left on the restore target while writing /zz-big.bin (ENOSPC)",
  );
  t.is(await readFile(join(target, "small.txt"), "utf8"), "fits\n");
});
