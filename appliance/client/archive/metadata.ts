/**
 * Reads what pxar stores about an entry (pxar-format.md §3): stat fields with nanosecond mtime,
 * chattr flags, xattrs in listing order, POSIX ACLs, file capabilities and the quota project id.
 * What cannot be read is reported and left out; the entry itself is still archived.
 */
import type { BigIntStats } from "node:fs";
import { MODE } from "../../format/pxar/constants.js";
import { EMPTY_ACL, type Metadata, type Stat, type Xattr } from "../../format/pxar/types.js";
import { getInodeFlags, getProjectId, lgetxattr, llistxattr } from "../../native/fsops.js";
import { errnoCode, isUnsupported } from "./errors.js";
import { entryFlagsFromChattr } from "./inode-flags.js";
import {
  ACL_ACCESS_XATTR,
  ACL_DEFAULT_XATTR,
  type AclEntries,
  accessPart,
  decodeAclXattr,
  defaultPart,
} from "./posix-acl.js";

export const FCAPS_XATTR = "security.capability";
const MAX_XATTR_NAME = 255;
const NANOS = 1_000_000_000n;

/** An entry to read metadata from. */
export interface MetadataSource {
  /** Its path on disk. */
  readonly path: Buffer;
  /** Its `lstat` result. */
  readonly stat: BigIntStats;
  /** An open descriptor for regular files and directories (chattr flags, project id), else null. */
  readonly fd: number | null;
  /** Whether its file system keeps quota project ids worth storing. */
  readonly projectIds: boolean;
}

/** Called for each part of the metadata that could not be read. */
export type MetadataProblem = (part: string, error: unknown) => void;

/** A lstat time in ns split into whole seconds (rounded down, also before 1970) and nanoseconds. */
export function timestampOf(ns: bigint): { secs: number; nanos: number } {
  let secs = ns / NANOS;
  let nanos = ns % NANOS;
  if (nanos < 0n) {
    secs -= 1n;
    nanos += NANOS;
  }
  return { secs: Number(secs), nanos: Number(nanos) };
}

export function statOf(stat: BigIntStats, flags: number): Stat {
  return {
    mode: Number(stat.mode),
    flags,
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    mtime: timestampOf(stat.mtimeNs),
  };
}

export function readMetadata(source: MetadataSource, problem: MetadataProblem): Metadata {
  const type = Number(source.stat.mode) & MODE.typeMask;
  const isDirectory = type === MODE.directory;
  const isFile = type === MODE.regular;
  const flags = source.fd === null ? 0 : readFlags(source.fd, problem);
  const { xattrs, fcaps, access, defaults } = readXattrs(
    source.path,
    type === MODE.symlink,
    isDirectory,
    problem,
  );
  const projectId =
    source.fd !== null && source.projectIds && (isDirectory || isFile)
      ? readProjectId(source.fd, problem)
      : null;
  return {
    stat: statOf(source.stat, flags),
    xattrs,
    acl: {
      ...EMPTY_ACL,
      ...(access === null ? {} : accessPart(access)),
      ...(defaults === null ? {} : defaultPart(defaults)),
    },
    fcaps,
    quotaProjectId: projectId,
  };
}

function readFlags(fd: number, problem: MetadataProblem): number {
  try {
    return entryFlagsFromChattr(getInodeFlags(fd));
  } catch (error) {
    if (!isUnsupported(error)) problem("chattr flags", error);
    return 0;
  }
}

function readProjectId(fd: number, problem: MetadataProblem): number | null {
  try {
    const id = getProjectId(fd);
    return id === 0 ? null : id;
  } catch (error) {
    if (!isUnsupported(error)) problem("quota project id", error);
    return null;
  }
}

interface XattrParts {
  xattrs: Xattr[];
  fcaps: Buffer | null;
  access: AclEntries | null;
  defaults: AclEntries | null;
}

/** Lists the xattrs once and sorts them into plain xattrs, fcaps and the two ACLs. */
function readXattrs(
  path: Buffer,
  isSymlink: boolean,
  isDirectory: boolean,
  problem: MetadataProblem,
): XattrParts {
  const parts: XattrParts = { xattrs: [], fcaps: null, access: null, defaults: null };
  let names: Buffer[];
  try {
    names = llistxattr(path);
  } catch (error) {
    if (!isUnsupported(error)) problem("xattr list", error);
    return parts;
  }
  for (const name of names) {
    const text = name.toString("latin1");
    if (text === ACL_ACCESS_XATTR || text === ACL_DEFAULT_XATTR) {
      if (isSymlink || (text === ACL_DEFAULT_XATTR && !isDirectory)) continue;
      const value = readValue(path, name, problem);
      if (value === null) continue;
      try {
        if (text === ACL_ACCESS_XATTR) parts.access = decodeAclXattr(value);
        else parts.defaults = decodeAclXattr(value);
      } catch (error) {
        problem(text, error);
      }
    } else if (text === FCAPS_XATTR) {
      parts.fcaps = readValue(path, name, problem);
    } else if (name.length <= MAX_XATTR_NAME) {
      const value = readValue(path, name, problem);
      if (value !== null) parts.xattrs.push({ name, value });
    }
  }
  return parts;
}

function readValue(path: Buffer, name: Buffer, problem: MetadataProblem): Buffer | null {
  try {
    return lgetxattr(path, name);
  } catch (error) {
    // ENODATA: removed since it was listed
    if (errnoCode(error) !== "ENODATA" && !isUnsupported(error)) {
      problem(`xattr ${name.toString()}`, error);
    }
    return null;
  }
}
