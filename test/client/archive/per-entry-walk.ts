/**
 * The archive a tree made before the walker batched its reads, as the oracle for the batched
 * one: every entry read with its own calls (Node's readdir, lstat, open, fstat, readlink and the
 * synchronous fsops xattr and ioctl helpers), with the warnings the walker gave for what could
 * not be read. No exclude patterns and no mount points: trees compared with it have none.
 */
import { type BigIntStats, constants } from "node:fs";
import { type FileHandle, lstat, open, readdir, readlink, stat } from "node:fs/promises";
import { errnoCode, isUnsupported } from "../../../appliance/client/archive/errors.js";
import {
  type FileSystemInfo,
  fileSystemOf,
} from "../../../appliance/client/archive/file-systems.js";
import { entryFlagsFromChattr } from "../../../appliance/client/archive/inode-flags.js";
import { FCAPS_XATTR, timestampOf } from "../../../appliance/client/archive/metadata.js";
import {
  ACL_ACCESS_XATTR,
  ACL_DEFAULT_XATTR,
  accessPart,
  decodeAclXattr,
  defaultPart,
} from "../../../appliance/client/archive/posix-acl.js";
import { displayPath, messageOf } from "../../../appliance/client/archive/warnings.js";
import { MODE } from "../../../appliance/format/pxar/constants.js";
import { type HardlinkTarget, PxarEncoder } from "../../../appliance/format/pxar/encoder.js";
import { EMPTY_ACL, type Metadata, type Xattr } from "../../../appliance/format/pxar/types.js";
import {
  getInodeFlags,
  getProjectId,
  lgetxattr,
  llistxattr,
} from "../../../appliance/native/fsops.js";

export interface PerEntryArchive {
  readonly archive: Buffer;
  /** As the walker words them: "/path: message". */
  readonly warnings: string[];
}

const SLASH = Buffer.from("/");

/** Archives `root` (v1) one call per entry and part; `beforeFileRead` as the walker's option. */
export async function archivePerEntry(
  root: string,
  beforeFileRead?: (path: string) => void | Promise<void>,
): Promise<PerEntryArchive> {
  const pieces: Buffer[] = [];
  const warnings: string[] = [];
  const hardlinks = new Map<string, HardlinkTarget>();
  const warn = (relative: Buffer, message: string) =>
    warnings.push(`${displayPath(relative)}: ${message}`);
  const absolute = Buffer.from(root);
  const rootStat = await stat(absolute, { bigint: true });
  const fs = await fileSystemOf(absolute);

  const openFailed = (relative: Buffer, error: unknown) => {
    const code = errnoCode(error);
    if (code === "ENOENT") warn(relative, "vanished while the archive was made");
    else if (code === "ELOOP" || code === "ENOTDIR" || code === "EINVAL") {
      warn(relative, `changed its type: ${messageOf(error)}`);
    } else warn(relative, `cannot read: ${messageOf(error)}`);
  };
  const settle = (relative: Buffer, problems: Problem[], metadata: Metadata) => {
    let vanished = false;
    for (const { part, error } of problems) {
      if (errnoCode(error) === "ENOENT") vanished = true;
      else warn(relative, `cannot read ${part}: ${messageOf(error)}`);
    }
    if (!vanished) return metadata;
    warn(relative, "vanished while the archive was made");
    return null;
  };
  const withMetadata = (
    path: Buffer,
    relative: Buffer,
    entryStat: BigIntStats,
    fd: number | null,
  ) => {
    const problems: Problem[] = [];
    const metadata = metadataOf(path, entryStat, fd, fs, problems);
    return settle(relative, problems, metadata);
  };

  const rootHandle = await open(absolute, constants.O_RDONLY | constants.O_DIRECTORY);
  let rootMetadata: Metadata | null;
  try {
    rootMetadata = withMetadata(absolute, Buffer.alloc(0), rootStat, rootHandle.fd);
  } finally {
    await rootHandle.close();
  }
  const encoder = await PxarEncoder.create((piece) => void pieces.push(piece), rootMetadata!);

  const walk = async (dir: Buffer, dirRelative: Buffer): Promise<void> => {
    let names: Buffer[];
    try {
      names = await readdir(dir, { encoding: "buffer" });
    } catch (error) {
      warn(dirRelative, `cannot list: ${messageOf(error)}`);
      return;
    }
    const listed: { name: Buffer; path: Buffer; relative: Buffer; stat: BigIntStats }[] = [];
    for (const name of names) {
      const path = Buffer.concat([dir, SLASH, name]);
      const relative = dirRelative.length === 0 ? name : Buffer.concat([dirRelative, SLASH, name]);
      try {
        listed.push({ name, path, relative, stat: await lstat(path, { bigint: true }) });
      } catch (error) {
        if (errnoCode(error) !== "ENOENT") warn(relative, `cannot stat: ${messageOf(error)}`);
      }
    }
    listed.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const { name, path, relative, stat: entryStat } of listed) {
      const type = Number(entryStat.mode) & MODE.typeMask;
      if (type === MODE.directory) {
        const opened = await openAsWalker(path, constants.O_RDONLY | constants.O_DIRECTORY);
        if ("error" in opened) {
          openFailed(relative, opened.error);
          continue;
        }
        const { handle } = opened;
        let metadata: Metadata | null;
        try {
          metadata = withMetadata(path, relative, entryStat, handle.fd);
        } finally {
          await handle.close();
        }
        if (metadata === null) continue;
        await encoder.beginDirectory(name, metadata);
        await walk(path, relative);
        await encoder.endDirectory();
      } else if (type === MODE.regular) {
        const inode = `${entryStat.dev}:${entryStat.ino}`;
        const linked = entryStat.nlink > 1n ? hardlinks.get(inode) : undefined;
        if (linked !== undefined) {
          await encoder.add(name, { kind: "hardlink", target: linked });
          continue;
        }
        await beforeFileRead?.(displayPath(relative));
        const opened = await openAsWalker(path, constants.O_RDONLY);
        if ("error" in opened) {
          openFailed(relative, opened.error);
          continue;
        }
        const file = opened.handle;
        try {
          if (!(await file.stat()).isFile()) {
            warn(relative, "is no longer a regular file");
            continue;
          }
          const metadata = withMetadata(path, relative, entryStat, file.fd);
          if (metadata === null) continue;
          const size = Number(entryStat.size);
          const content = (await file.readFile()).subarray(0, size);
          const target = await encoder.add(name, {
            kind: "file",
            metadata,
            size,
            content: [content],
          });
          if (entryStat.nlink > 1n && target !== null) hardlinks.set(inode, target);
        } finally {
          await file.close();
        }
      } else if (type === MODE.symlink) {
        let target: Buffer;
        try {
          target = await readlink(path, { encoding: "buffer" });
        } catch (error) {
          openFailed(relative, error);
          continue;
        }
        const metadata = withMetadata(path, relative, entryStat, null);
        if (metadata !== null) await encoder.add(name, { kind: "symlink", metadata, target });
      } else {
        const metadata = withMetadata(path, relative, entryStat, null);
        if (metadata === null) continue;
        if (type === MODE.blockDevice || type === MODE.charDevice) {
          const rdev = entryStat.rdev;
          const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
          const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
          const kind = type === MODE.blockDevice ? "block-device" : "char-device";
          await encoder.add(name, { kind, metadata, device: { major, minor } });
        } else {
          await encoder.add(name, { kind: type === MODE.fifo ? "fifo" : "socket", metadata });
        }
      }
    }
  };
  await walk(absolute, Buffer.alloc(0));
  await encoder.finish();
  return { archive: Buffer.concat(pieces), warnings };
}

interface Problem {
  readonly part: string;
  readonly error: unknown;
}

/** Opens as the walker did (no symlinks followed, O_NOATIME when allowed). */
async function openAsWalker(
  path: Buffer,
  flags: number,
): Promise<{ handle: FileHandle } | { error: unknown }> {
  const base = flags | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
  try {
    return { handle: await open(path, base | constants.O_NOATIME) };
  } catch (error) {
    if (errnoCode(error) !== "EPERM") return { error };
    try {
      return { handle: await open(path, base) };
    } catch (again) {
      return { error: again };
    }
  }
}

function metadataOf(
  path: Buffer,
  entryStat: BigIntStats,
  fd: number | null,
  fs: FileSystemInfo,
  problems: Problem[],
): Metadata {
  const problem = (part: string, error: unknown) => problems.push({ part, error });
  const type = Number(entryStat.mode) & MODE.typeMask;
  const isDirectory = type === MODE.directory;
  let flags = 0;
  if (fd !== null) {
    try {
      flags = entryFlagsFromChattr(getInodeFlags(fd));
    } catch (error) {
      if (!isUnsupported(error)) problem("chattr flags", error);
    }
  }
  const xattrs: Xattr[] = [];
  let fcaps: Buffer | null = null;
  let acl = EMPTY_ACL;
  let names: Buffer[] = [];
  try {
    names = llistxattr(path);
  } catch (error) {
    if (!isUnsupported(error)) problem("xattr list", error);
  }
  const readValue = (name: Buffer) => {
    try {
      return lgetxattr(path, name);
    } catch (error) {
      if (errnoCode(error) !== "ENODATA" && !isUnsupported(error)) {
        problem(`xattr ${name.toString()}`, error);
      }
      return null;
    }
  };
  for (const name of names) {
    const text = name.toString("latin1");
    if (text === ACL_ACCESS_XATTR || text === ACL_DEFAULT_XATTR) {
      if (type === MODE.symlink || (text === ACL_DEFAULT_XATTR && !isDirectory)) continue;
      const value = readValue(name);
      if (value === null) continue;
      try {
        const entries = decodeAclXattr(value);
        acl = {
          ...acl,
          ...(text === ACL_ACCESS_XATTR ? accessPart(entries) : defaultPart(entries)),
        };
      } catch (error) {
        problem(text, error);
      }
    } else if (text === FCAPS_XATTR) {
      fcaps = readValue(name);
    } else if (name.length <= 255) {
      const value = readValue(name);
      if (value !== null) xattrs.push({ name, value });
    }
  }
  let quotaProjectId: number | null = null;
  if (fd !== null && fs.hasProjectIds && (isDirectory || type === MODE.regular)) {
    try {
      quotaProjectId = getProjectId(fd) || null;
    } catch (error) {
      if (!isUnsupported(error)) problem("quota project id", error);
    }
  }
  const stat = {
    mode: Number(entryStat.mode),
    flags,
    uid: Number(entryStat.uid),
    gid: Number(entryStat.gid),
    mtime: timestampOf(entryStat.mtimeNs),
  };
  return { stat, xattrs, acl, fcaps, quotaProjectId };
}
