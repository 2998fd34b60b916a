import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { ArchiveError } from "../../../appliance/client/archive/errors.js";
import { encodeTree } from "../../../appliance/client/archive/walker.js";
import { archiveListing, archiveTree, isRoot, run, tempDir } from "./fixtures.js";

/** Mounts for the test's lifetime; false (with a note) where this machine does not allow it. */
async function mountFor(
  t: ExecutionContext,
  type: string,
  at: string,
  options = "",
): Promise<boolean> {
  try {
    await run("mount", ["-t", type, ...(options ? ["-o", options] : []), type, at]);
  } catch (error) {
    t.log(`cannot mount ${type} here, part of the test skipped: ${(error as Error).message}`);
    return false;
  }
  t.teardown(() => run("umount", [at]).then(() => undefined));
  return true;
}

const asRoot = isRoot ? test.serial : test.skip;
if (!isRoot) {
  test("mount tests need root", (t) => {
    t.log("mount tests skipped: not running as root");
    t.pass();
  });
}

asRoot("one file system by default: a mount point is archived empty", async (t) => {
  const src = await tempDir(t);
  await writeFile(join(src, "outer.txt"), "on the root's file system\n");
  await mkdir(join(src, "inner"));
  if (!(await mountFor(t, "tmpfs", join(src, "inner"), "size=1m"))) return t.pass();
  await writeFile(join(src, "inner/file"), "on a tmpfs\n");

  const kept = await archiveTree(src);
  t.deepEqual((await archiveListing(kept)).lines, [
    "/ directory",
    "/inner directory",
    "/outer.txt file 26",
  ]);
  t.deepEqual(
    kept.warnings.map((w) => `${w.kind} ${w.path}`),
    ["mount-point /inner"],
  );

  const crossed = await archiveTree(src, { oneFileSystem: false });
  t.deepEqual((await archiveListing(crossed)).lines, [
    "/ directory",
    "/inner directory",
    "/inner/file file 11",
    "/outer.txt file 26",
  ]);
  t.deepEqual(crossed.warnings, []);
});

asRoot("virtual file systems are never descended into, even across file systems", async (t) => {
  const src = await tempDir(t);
  await mkdir(join(src, "proc"));
  await mkdir(join(src, "sys"));
  const proc = await mountFor(t, "proc", join(src, "proc"));
  const sys = await mountFor(t, "sysfs", join(src, "sys"));
  if (!proc && !sys) return t.pass();
  const archived = await archiveTree(src, { oneFileSystem: false });
  t.deepEqual((await archiveListing(archived)).lines, [
    "/ directory",
    "/proc directory",
    "/sys directory",
  ]);
  t.deepEqual(
    archived.warnings.map((w) => `${w.kind} ${w.path}`),
    [...(proc ? ["virtual-filesystem /proc"] : []), ...(sys ? ["virtual-filesystem /sys"] : [])],
  );
});

test("archiving the root of a virtual file system is refused", async (t) => {
  const error = await t.throwsAsync(
    encodeTree("/proc", () => undefined),
    { instanceOf: ArchiveError },
  );
  t.is(error?.kind, "virtual-filesystem");
});

test("archiving something that is not a directory is refused", async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, "file"), "x");
  const error = await t.throwsAsync(
    encodeTree(join(dir, "file"), () => undefined),
    {
      instanceOf: ArchiveError,
    },
  );
  t.is(error?.kind, "not-a-directory");
});
