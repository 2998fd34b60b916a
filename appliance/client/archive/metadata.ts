/**
 * What pxar stores about an entry (pxar-format.md §3), made from what was read about it
 * (native/directory-listing.ts, native/entry-reads.ts): stat fields with nanosecond mtime, chattr flags, xattrs in listing
 * order, POSIX ACLs, file capabilities and the quota project id. What could not be read is
 * reported and left out; the entry itself is still archived.
 */
import type { BigIntStats } from "node:fs";
import { EMPTY_ACL, type Metadata, type Stat, type Xattr } from "../../format/pxar/types.js";
import type { EntryStat } from "../../native/directory-listing.js";
import type { EntryParts, XattrRead } from "../../native/entry-reads.js";
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
const NANOS = 1_000_000_000n;

/** Called for each part of the metadata that could not be read. */
export type MetadataProblem = (part: string, error: unknown) => void;

/** A stat time in ns split into whole seconds (rounded down, also before 1970) and nanoseconds. */
export function timestampOf(ns: bigint): { secs: number; nanos: number } {
  let secs = ns / NANOS;
  let nanos = ns % NANOS;
  if (nanos < 0n) {
    secs -= 1n;
    nanos += NANOS;
  }
  return { secs: Number(secs), nanos: Number(nanos) };
}

/** The EntryStat of a Node stat (the archive root is stat-ed by Node, following symlinks). */
export function entryStatOf(stat: BigIntStats): EntryStat {
  return {
    mode: Number(stat.mode),
    nlink: Number(stat.nlink),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    size: Number(stat.size),
    mtime: timestampOf(stat.mtimeNs),
    dev: stat.dev,
    ino: stat.ino,
    rdev: stat.rdev,
  };
}

export function statOf(stat: EntryStat, flags: number): Stat {
  return {
    mode: stat.mode,
    flags,
    uid: stat.uid,
    gid: stat.gid,
    mtime: { secs: stat.mtime.secs, nanos: stat.mtime.nanos },
  };
}

/** The metadata of an entry from its lstat and the parts read about it. */
export function entryMetadata(
  stat: EntryStat,
  parts: EntryParts,
  problem: MetadataProblem,
): Metadata {
  const flags = flagsOf(parts.flags, problem);
  const { xattrs, fcaps, access, defaults } = sortXattrs(parts.xattrs, problem);
  const projectId = projectIdOf(parts.projectId, problem);
  return {
    stat: statOf(stat, flags),
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

function flagsOf(read: EntryParts["flags"], problem: MetadataProblem): number {
  if (read === null) return 0;
  if (typeof read === "number") return entryFlagsFromChattr(read);
  if (!isUnsupported(read)) problem("chattr flags", read);
  return 0;
}

function projectIdOf(read: EntryParts["projectId"], problem: MetadataProblem): number | null {
  if (read === null) return null;
  if (typeof read === "number") return read === 0 ? null : read;
  if (!isUnsupported(read)) problem("quota project id", read);
  return null;
}

interface XattrParts {
  xattrs: Xattr[];
  fcaps: Buffer | null;
  access: AclEntries | null;
  defaults: AclEntries | null;
}

/** Sorts the attributes read into plain xattrs, fcaps and the two ACLs. */
function sortXattrs(read: EntryParts["xattrs"], problem: MetadataProblem): XattrParts {
  const parts: XattrParts = { xattrs: [], fcaps: null, access: null, defaults: null };
  if (read === null) return parts;
  if (!Array.isArray(read)) {
    if (!isUnsupported(read)) problem("xattr list", read);
    return parts;
  }
  for (const { name, value } of read as readonly XattrRead[]) {
    if (!Buffer.isBuffer(value)) {
      // ENODATA: removed since it was listed
      if (errnoCode(value) !== "ENODATA" && !isUnsupported(value)) {
        problem(`xattr ${name.toString()}`, value);
      }
      continue;
    }
    const text = name.toString("latin1");
    if (text === ACL_ACCESS_XATTR || text === ACL_DEFAULT_XATTR) {
      try {
        if (text === ACL_ACCESS_XATTR) parts.access = decodeAclXattr(value);
        else parts.defaults = decodeAclXattr(value);
      } catch (error) {
        problem(text, error);
      }
    } else if (text === FCAPS_XATTR) {
      parts.fcaps = value;
    } else {
      parts.xattrs.push({ name, value });
    }
  }
  return parts;
}
