/**
 * Puts an entry's metadata back on a restored file, in the PBS extractor's order: owner first
 * (it clears setuid bits and capabilities), then xattrs, file capabilities, ACLs and the project
 * id, then the mode, the mtime (after the mode, which would touch it) and last the chattr flags
 * (immutable forbids everything after). Each part that fails is one warning; the rest goes on.
 * Nothing here follows a symlink.
 */
import { constants } from "node:fs";
import { chmod, lchown, open } from "node:fs/promises";
import { MODE } from "../../format/pxar/constants.js";
import type { Metadata } from "../../format/pxar/types.js";
import {
  getInodeFlags,
  lsetxattr,
  setInodeFlags,
  setProjectId,
  utimensat,
} from "../../native/fsops.js";
import { CARRIED_CHATTR, chattrFromEntryFlags } from "./inode-flags.js";
import { FCAPS_XATTR } from "./metadata.js";
import {
  ACL_ACCESS_XATTR,
  ACL_DEFAULT_XATTR,
  encodeAccessAcl,
  encodeDefaultAcl,
} from "./posix-acl.js";
import type { ArchiveWarningKind } from "./warnings.js";

/** Reports one part that could not be restored. */
export type RestoreProblem = (kind: ArchiveWarningKind, what: string, error: unknown) => void;

export async function applyMetadata(
  path: Buffer,
  metadata: Metadata,
  problem: RestoreProblem,
): Promise<void> {
  const { stat } = metadata;
  const type = stat.mode & MODE.typeMask;
  const isSymlink = type === MODE.symlink;
  const hasInodeFlags = type === MODE.regular || type === MODE.directory;
  await attempt(problem, "owner", `owner ${stat.uid}:${stat.gid}`, () =>
    lchown(path, stat.uid, stat.gid),
  );
  restoreXattrs(path, metadata, problem);
  if (metadata.fcaps !== null) {
    const fcaps = metadata.fcaps;
    await attempt(problem, "fcaps", "file capabilities", () => lsetxattr(path, FCAPS_XATTR, fcaps));
  }
  if (!isSymlink) {
    await attempt(problem, "acl", "ACL", () => restoreAcl(path, metadata, type === MODE.directory));
  }
  const projectId = metadata.quotaProjectId;
  if (projectId !== null && hasInodeFlags) {
    await attempt(problem, "project-id", `quota project id ${projectId}`, () =>
      withDescriptor(path, type, (fd) => setProjectId(fd, projectId)),
    );
  }
  if (!isSymlink) {
    await attempt(problem, "mode", `mode 0o${(stat.mode & 0o7777).toString(8)}`, () =>
      chmod(path, stat.mode & 0o7777),
    );
  }
  await attempt(problem, "times", "mtime", () =>
    utimensat(path, null, stat.mtime, { noFollow: true }),
  );
  const chattr = chattrFromEntryFlags(stat.flags);
  if (chattr !== 0 && hasInodeFlags) {
    await attempt(problem, "flags", `inode flags 0x${chattr.toString(16)}`, () =>
      withDescriptor(path, type, (fd) => {
        const current = getInodeFlags(fd);
        const wanted = ((current & ~CARRIED_CHATTR) | chattr) >>> 0;
        if (wanted !== current) setInodeFlags(fd, wanted);
      }),
    );
  }
}

function restoreXattrs(path: Buffer, metadata: Metadata, problem: RestoreProblem): void {
  const failed: string[] = [];
  let firstError: unknown;
  for (const xattr of metadata.xattrs) {
    try {
      lsetxattr(path, xattr.name, xattr.value);
    } catch (error) {
      failed.push(Buffer.from(xattr.name).toString());
      firstError ??= error;
    }
  }
  if (failed.length > 0) problem("xattrs", `xattrs ${failed.join(", ")}`, firstError);
}

function restoreAcl(path: Buffer, metadata: Metadata, isDirectory: boolean): void {
  const access = encodeAccessAcl(metadata.stat.mode, metadata.acl);
  if (access !== null) lsetxattr(path, ACL_ACCESS_XATTR, access);
  const defaults = isDirectory ? encodeDefaultAcl(metadata.acl) : null;
  if (defaults !== null) lsetxattr(path, ACL_DEFAULT_XATTR, defaults);
}

/** Runs `use` on a descriptor of the regular file or directory at `path`, never a symlink. */
async function withDescriptor(path: Buffer, type: number, use: (fd: number) => void) {
  const kind = type === MODE.directory ? constants.O_DIRECTORY : constants.O_NONBLOCK;
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | kind);
  try {
    use(handle.fd);
  } finally {
    await handle.close();
  }
}

async function attempt(
  problem: RestoreProblem,
  kind: ArchiveWarningKind,
  what: string,
  run: () => unknown,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    problem(kind, what, error);
  }
}
