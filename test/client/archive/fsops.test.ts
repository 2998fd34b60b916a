import { lstat, mkdir, open, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import {
  getInodeFlags,
  lgetxattr,
  llistxattr,
  lremovexattr,
  lsetxattr,
  mknod,
  SyscallError,
  setInodeFlags,
  utimensat,
} from "../../../appliance/native/fsops.js";
import { isRoot, tempDir } from "./fixtures.js";

test("xattrs are listed, read, written and removed; a missing one is ENODATA", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "f");
  await writeFile(path, "x");
  lsetxattr(path, "user.one", Buffer.from("1"));
  lsetxattr(Buffer.from(path), Buffer.from("user.two"), Buffer.from([0, 255]));
  t.deepEqual(llistxattr(path).map(String).sort(), ["user.one", "user.two"]);
  t.deepEqual(lgetxattr(path, "user.two"), Buffer.from([0, 255]));
  t.throws(() => lsetxattr(path, "user.one", Buffer.from("again"), "create"), { code: "EEXIST" });
  lremovexattr(path, "user.one");
  const error = t.throws(() => lgetxattr(path, "user.one"), { instanceOf: SyscallError });
  t.is(error?.code, "ENODATA");
  t.is(error?.syscall, "lgetxattr");
  t.is(error?.path, path);
  t.throws(() => llistxattr(join(dir, "missing")), { code: "ENOENT" });
});

test("bad arguments are a TypeError, not a crash", (t) => {
  t.throws(() => lgetxattr("", "user.x"), { code: "CAIRN_E_FSOPS_ARGUMENT" });
  t.throws(() => lgetxattr(tmpdir(), "nul\0name"), { code: "CAIRN_E_FSOPS_ARGUMENT" });
  t.throws(() => lsetxattr(tmpdir(), "user.x", "text" as unknown as Uint8Array), {
    code: "CAIRN_E_FSOPS_ARGUMENT",
  });
});

test("utimensat sets nanoseconds and, with noFollow, a symlink's own time", async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, "target"), "x");
  await symlink("target", join(dir, "link"));
  utimensat(join(dir, "target"), null, { secs: -1, nanos: 999_999_999 }, { noFollow: false });
  utimensat(join(dir, "link"), null, { secs: 1_700_000_000, nanos: 1 }, { noFollow: true });
  t.is((await lstat(join(dir, "target"), { bigint: true })).mtimeNs, -1n);
  t.is((await lstat(join(dir, "link"), { bigint: true })).mtimeNs, 1_700_000_000_000_000_001n);
});

test("mknod makes FIFOs and sockets, and devices as root", async (t) => {
  const dir = await tempDir(t);
  mknod(join(dir, "fifo"), 0o010640);
  mknod(join(dir, "socket"), 0o140600);
  t.true((await lstat(join(dir, "fifo"))).isFIFO());
  t.true((await lstat(join(dir, "socket"))).isSocket());
  t.throws(() => mknod(join(dir, "fifo"), 0o010640), { code: "EEXIST" });
  if (isRoot) {
    mknod(join(dir, "null"), 0o020666, { major: 1, minor: 3 });
    const stat = await lstat(join(dir, "null"));
    t.true(stat.isCharacterDevice());
    t.is(stat.rdev, (1 << 8) | 3);
  }
});

test("inode flags are read and set through a descriptor", async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, "d"));
  const handle = await open(join(dir, "d"), "r");
  try {
    const NODUMP = 0x40;
    let before: number;
    try {
      before = getInodeFlags(handle.fd);
    } catch (error) {
      return t.pass(`this file system has no inode flags: ${(error as Error).message}`);
    }
    setInodeFlags(handle.fd, before | NODUMP);
    t.is(getInodeFlags(handle.fd) & NODUMP, NODUMP);
    setInodeFlags(handle.fd, before);
    t.is(getInodeFlags(handle.fd), before);
  } finally {
    await handle.close();
  }
});
