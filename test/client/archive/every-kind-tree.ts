/**
 * Builds a source tree holding every kind of entry and attribute an archive must carry, with
 * system tools where they exist (so the fixture does not depend on the code under test):
 * setfacl (Debian `acl`), setcap (`libcap2-bin`), mknod, mkfifo, touch. Returns what it could
 * not make, for the test to note.
 */

import { chmod, chown, link, mkdir, rename, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { lsetxattr } from "../../../appliance/native/fsops.js";
import { pseudoRandomBuffer } from "../../helpers/generators.js";
import { hasCommand, isRoot, run } from "./fixtures.js";

export const SPARSE_SIZE = 64 * 1024 * 1024;
export const BIG_SIZE = 3 * 1024 * 1024 + 12_345;

/** A name that is not UTF-8: archives carry names as bytes. */
export const RAW_NAME = Buffer.from([0x72, 0x61, 0x77, 0xff, 0xfe]);

export async function buildEveryKindTree(src: string): Promise<string[]> {
  const missing: string[] = [];
  await mkdir(join(src, "dir/nested/deep"), { recursive: true });
  await mkdir(join(src, "acl-dir"));
  await mkdir(join(src, "sticky"));
  await writeFile(join(src, "empty"), "");
  await writeFile(join(src, "small.txt"), "hello, archive\n");
  await writeFile(join(src, "big.bin"), pseudoRandomBuffer(BIG_SIZE, "big"));
  await writeFile(join(src, "dir/nested/deep/file"), "deep\n");
  await writeSparse(join(src, "sparse.img"));
  await symlink("../small.txt", join(src, "dir/link-to-small"));
  await symlink("does/not/exist", join(src, "dir/dangling"));
  await writeFile(join(src, "hard-a"), "shared inode\n");
  await link(join(src, "hard-a"), join(src, "dir/hard-b"));
  await link(join(src, "hard-a"), join(src, "hard-c"));
  await writeFile(Buffer.concat([Buffer.from(`${src}/`), RAW_NAME]), "raw name\n");
  await run("mkfifo", [join(src, "fifo")]);
  await makeSocket(join(src, "socket"));
  await writeFile(join(src, "setuid"), "#!/bin/sh\n");
  await writeFile(join(src, "secret"), "no access\n");
  await writeFile(join(src, "xattr-file"), "with xattrs\n");
  lsetxattr(join(src, "xattr-file"), "user.comment", Buffer.from("a comment"));
  lsetxattr(join(src, "xattr-file"), "user.binary", Buffer.from([0, 1, 2, 255]));
  lsetxattr(join(src, "dir"), "user.on-a-dir", Buffer.from("dir value"));
  await writeFile(join(src, "acl-file"), "with an ACL\n");
  await writeFile(join(src, "caps"), "capable\n");
  if (isRoot) {
    await run("mknod", [join(src, "char-dev"), "c", "1", "3"]);
    await run("mknod", [join(src, "block-dev"), "b", "7", "200"]);
    await writeFile(join(src, "owned"), "someone else's\n");
    await chown(join(src, "owned"), 1234, 5678);
    await chown(join(src, "dir/nested"), 4321, 8765);
    await chown(join(src, "fifo"), 1000, 1000);
  } else {
    missing.push("devices and foreign owners (not root)");
  }
  await setAcls(src, missing);
  await setCaps(src, missing);
  // modes after chown, which clears setuid
  await chmod(join(src, "setuid"), 0o4755);
  await chmod(join(src, "secret"), 0o000);
  await chmod(join(src, "sticky"), 0o1777);
  await chmod(join(src, "dir"), 0o2750);
  await chmod(join(src, "dir/nested/deep/file"), 0o640);
  await setTimes(src);
  return missing;
}

async function writeSparse(path: string): Promise<void> {
  const { open } = await import("node:fs/promises");
  const handle = await open(path, "w");
  try {
    await handle.write(Buffer.from("start of a sparse file"), 0, 22, 0);
    await handle.write(pseudoRandomBuffer(10_000, "middle"), 0, 10_000, 32 * 1024 * 1024 + 100);
    await handle.truncate(SPARSE_SIZE);
  } finally {
    await handle.close();
  }
}

/** A socket inode that outlives its server: renamed away before Node's close removes it. */
async function makeSocket(path: string): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(`${path}.tmp`, resolve));
  await rename(`${path}.tmp`, path);
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function setAcls(src: string, missing: string[]): Promise<void> {
  if (await hasCommand("setfacl")) {
    await run("setfacl", ["-m", "u:1234:rw-,g:5678:r--,m::rw-", join(src, "acl-file")]);
    await run("setfacl", ["-m", "u:1234:rwx,g:4321:r-x", join(src, "acl-dir")]);
    await run("setfacl", ["-d", "-m", "u:1234:rwx,g:5678:r-x,o::---", join(src, "acl-dir")]);
    return;
  }
  missing.push("setfacl not installed: ACLs set as raw xattrs");
  // user_obj rw-, user 1234 rw-, group_obj r--, group 5678 r--, mask rw-, other r--
  const entries: [number, number, number][] = [
    [0x01, 6, 0xffffffff],
    [0x02, 6, 1234],
    [0x04, 4, 0xffffffff],
    [0x08, 4, 5678],
    [0x10, 6, 0xffffffff],
    [0x20, 4, 0xffffffff],
  ];
  lsetxattr(join(src, "acl-file"), "system.posix_acl_access", aclBytes(entries));
  lsetxattr(join(src, "acl-dir"), "system.posix_acl_default", aclBytes(entries));
}

function aclBytes(entries: [number, number, number][]): Buffer {
  const out = Buffer.alloc(4 + 8 * entries.length);
  out.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], index) => {
    out.writeUInt16LE(tag, 4 + 8 * index);
    out.writeUInt16LE(perm, 6 + 8 * index);
    out.writeUInt32LE(id, 8 + 8 * index);
  });
  return out;
}

async function setCaps(src: string, missing: string[]): Promise<void> {
  if (!isRoot) {
    missing.push("file capabilities (not root)");
    return;
  }
  if (await hasCommand("setcap")) {
    await run("setcap", ["cap_net_raw,cap_net_bind_service+ep", join(src, "caps")]);
    return;
  }
  missing.push("setcap not installed: capabilities set as a raw xattr");
  // VFS_CAP_REVISION_2, effective; permitted = net_bind_service (10) and net_raw (13)
  const caps = Buffer.alloc(20);
  caps.writeUInt32LE(0x02000001, 0);
  caps.writeUInt32LE((1 << 10) | (1 << 13), 4);
  lsetxattr(join(src, "caps"), "security.capability", caps);
}

/** Nanosecond mtimes everywhere, children before their directories, one before 1970. */
async function setTimes(src: string): Promise<void> {
  const stamp = (path: string, when: string) => run("touch", ["-h", "-d", when, join(src, path)]);
  await stamp("small.txt", "1960-03-04 05:06:07.123456789 UTC");
  await stamp("big.bin", "2001-02-03 04:05:06.987654321 UTC");
  await stamp("dir/link-to-small", "2010-01-01 00:00:00.000000001 UTC");
  await stamp("dir/nested/deep/file", "2020-05-06 07:08:09.5 UTC");
  await stamp("dir/nested/deep", "2020-05-06 07:08:10.25 UTC");
  await stamp("dir/nested", "2020-05-06 07:08:11.125 UTC");
  await stamp("dir", "2021-12-31 23:59:59.999999999 UTC");
  await stamp(".", "2022-02-22 22:22:22.222222222 UTC");
}
