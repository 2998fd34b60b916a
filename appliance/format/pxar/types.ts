import { MODE } from "./constants.js";

/**
 * The entry model pxar carries (pxar-format.md §3–§4): what the encoder is fed and what the
 * decoder and the accessor hand back. Names and link targets are raw bytes, as Linux stores them.
 */

/** Modification time as stored: whole seconds since the epoch (may be negative) plus 0…999 999 999 ns. */
export interface Timestamp {
  readonly secs: number;
  readonly nanos: number;
}

/** The ENTRY item: `st_mode` (type and permission bits), chattr/FAT flags, owner, mtime. */
export interface Stat {
  readonly mode: number;
  readonly flags: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Timestamp;
}

/** One extended attribute; `security.capability` goes to `fcaps`, POSIX ACLs to `acl`. */
export interface Xattr {
  readonly name: Uint8Array;
  readonly value: Uint8Array;
}

/** A named user (or group) ACL entry with its permission bits (read 4, write 2, execute 1). */
export interface AclUser {
  readonly uid: number;
  readonly permissions: number;
}

export interface AclGroup {
  readonly gid: number;
  readonly permissions: number;
}

/** The default ACL's fixed parts of a directory; null is a part that is not set. */
export interface AclDefault {
  readonly userObj: number | null;
  readonly groupObj: number | null;
  readonly other: number | null;
  readonly mask: number | null;
}

/** A POSIX ACL as pxar splits it; `groupObj` is stored only when the access ACL has a mask. */
export interface Acl {
  readonly users: readonly AclUser[];
  readonly groups: readonly AclGroup[];
  readonly groupObj: number | null;
  readonly default: AclDefault | null;
  readonly defaultUsers: readonly AclUser[];
  readonly defaultGroups: readonly AclGroup[];
}

/** Everything stored about an entry besides its name and its kind-specific payload. */
export interface Metadata {
  readonly stat: Stat;
  /** In the order written (the PBS archiver keeps `flistxattr` order). */
  readonly xattrs: readonly Xattr[];
  readonly acl: Acl;
  /** The raw `security.capability` value. */
  readonly fcaps: Uint8Array | null;
  readonly quotaProjectId: number | null;
}

export const EMPTY_ACL: Acl = {
  users: [],
  groups: [],
  groupObj: null,
  default: null,
  defaultUsers: [],
  defaultGroups: [],
};

/** Metadata with only a stat, the parts named in `extra` added. */
export function metadataOf(stat: Stat, extra: Partial<Omit<Metadata, "stat">> = {}): Metadata {
  return {
    stat,
    xattrs: extra.xattrs ?? [],
    acl: extra.acl ?? EMPTY_ACL,
    fcaps: extra.fcaps ?? null,
    quotaProjectId: extra.quotaProjectId ?? null,
  };
}

/** A block or character device number, split as glibc's `makedev` does. */
export interface DeviceNumber {
  readonly major: number;
  readonly minor: number;
}

/** Where a regular file's bytes live in a split archive's `.ppxar` (the PAYLOAD header's offset). */
export interface PayloadRef {
  readonly offset: number;
  readonly size: number;
}

/** The kinds of entries, named for what they are on disk. */
export type EntryKind =
  | "directory"
  | "file"
  | "symlink"
  | "hardlink"
  | "block-device"
  | "char-device"
  | "fifo"
  | "socket";

/** The kind a mode's type bits announce, or undefined for an unknown type. */
export function kindOfMode(mode: number): Exclude<EntryKind, "hardlink"> | undefined {
  switch (mode & MODE.typeMask) {
    case MODE.directory:
      return "directory";
    case MODE.regular:
      return "file";
    case MODE.symlink:
      return "symlink";
    case MODE.blockDevice:
      return "block-device";
    case MODE.charDevice:
      return "char-device";
    case MODE.fifo:
      return "fifo";
    case MODE.socket:
      return "socket";
    default:
      return undefined;
  }
}
