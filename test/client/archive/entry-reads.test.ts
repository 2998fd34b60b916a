import {
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { listDirectory } from "../../../appliance/native/directory-listing.js";
import { readEntries } from "../../../appliance/native/entry-reads.js";
import { lgetxattr, llistxattr, lsetxattr } from "../../../appliance/native/fsops.js";
import { RAW_NAME } from "./every-kind-tree.js";
import { tempDir } from "./fixtures.js";

const PROBE = ".pxarexclude";

/** What Node's own call throws, to compare the addon's errors with. */
async function nodeError(call: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await call();
  } catch (error) {
    const { message, code, errno, syscall, path } = error as Record<string, unknown>;
    return { message, code, errno, syscall, path };
  }
  throw new Error("the call did not fail");
}

function fields(error: unknown): Record<string, unknown> {
  const { message, code, errno, syscall, path } = error as Record<string, unknown>;
  return { message, code, errno, syscall, path };
}

test("a listing is Node's readdir order with each name's lstat, and says whether the probe exists", async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, "b"), "bee");
  await writeFile(Buffer.concat([Buffer.from(`${dir}/`), RAW_NAME]), "raw");
  await mkdir(join(dir, "A"));
  await symlink("b", join(dir, "c"));
  const listing = await listDirectory(Buffer.from(dir), PROBE);
  if (listing.failed !== null) return t.fail(listing.failed.message);
  t.deepEqual(listing.names, await readdir(dir, { encoding: "buffer" }));
  t.is(listing.probeCode, "ENOENT");
  for (const [index, name] of listing.names.entries()) {
    const expected = await lstat(Buffer.concat([Buffer.from(`${dir}/`), name]), { bigint: true });
    const got = listing.stats[index]!;
    if (got instanceof Error) return t.fail(got.message);
    t.is(got.mode, Number(expected.mode));
    t.is(got.size, Number(expected.size));
    t.is(got.nlink, Number(expected.nlink));
    t.is(got.uid, Number(expected.uid));
    t.is(got.gid, Number(expected.gid));
    t.is(BigInt(got.mtime.secs) * 1_000_000_000n + BigInt(got.mtime.nanos), expected.mtimeNs);
    t.is(got.dev, expected.dev);
    t.is(got.ino, expected.ino);
    t.is(got.rdev, expected.rdev);
  }
  await writeFile(join(dir, PROBE), "");
  const again = await listDirectory(Buffer.from(dir), PROBE);
  t.is(again.failed === null ? again.probeCode : "failed", null);
});

test("failures are the errors Node's own calls throw, paths longer than PATH_MAX included", async (t) => {
  const dir = await tempDir(t);
  const missing = Buffer.from(join(dir, "missing"));
  const listing = await listDirectory(missing, PROBE);
  t.deepEqual(fields(listing.failed), await nodeError(() => readdir(missing)));
  const tooLong = Buffer.from(`${dir}/${"x/".repeat(2100)}file`);
  const [file, link] = await readEntries(
    [
      { path: tooLong, kind: "file", projectId: false },
      { path: missing, kind: "symlink", projectId: false },
    ],
    PROBE,
  );
  t.deepEqual(fields(file!.failed), await nodeError(() => open(tooLong, "r")));
  t.deepEqual(fields(link!.failed), await nodeError(() => readlink(missing)));
});

test("xattr lists and values beyond the first buffers read whole, as fsops reads them", async (t) => {
  // tmpfs keeps values and lists larger than one ext4 block
  const shm = await mkdtemp("/dev/shm/cairn-xattrs-").catch(() => null);
  if (shm !== null) t.teardown(() => rm(shm, { recursive: true, force: true }));
  const path = join(shm ?? (await tempDir(t)), "many");
  await writeFile(path, "x");
  try {
    lsetxattr(path, "user.big", Buffer.alloc(20_000, 7));
    for (let i = 0; i < 200; i++)
      lsetxattr(path, `user.name-${i}-${"n".repeat(20)}`, Buffer.from([i]));
  } catch (error) {
    return t.pass(`no large xattrs here: ${(error as Error).message}`);
  }
  const [read] = await readEntries(
    [{ path: Buffer.from(path), kind: "file", projectId: false }],
    PROBE,
  );
  if (read!.failed !== null) return t.fail(read!.failed.message);
  const xattrs = read!.parts.xattrs;
  if (!Array.isArray(xattrs)) return t.fail(String(xattrs));
  const names = llistxattr(path);
  t.true(names.reduce((sum, name) => sum + name.length + 1, 0) > 4096);
  t.deepEqual(
    xattrs.map(({ name }) => name),
    names,
  );
  for (const { name, value } of xattrs) t.deepEqual(value, lgetxattr(path, name));
});

test("bad arguments are a TypeError, not a crash", async (t) => {
  const error = { code: "CAIRN_E_FSOPS_ARGUMENT" };
  await t.throwsAsync(listDirectory(Buffer.from("/"), "a/b"), error);
  await t.throwsAsync(listDirectory(Buffer.from(""), PROBE), error);
  await t.throwsAsync(
    readEntries([{ path: Buffer.from("nul\0byte"), kind: "file", projectId: false }], PROBE),
    error,
  );
});
