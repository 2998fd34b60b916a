/**
 * The chattr inode flags (FS_IOC_GETFLAGS, Linux `FS_*_FL`) the PBS archiver keeps, and the
 * ENTRY flag bit each one becomes in pxar (pxar-format.md §3). Other inode flags, such as ext4's
 * "extents", describe the storage and are not carried over.
 */
import { ENTRY_FLAG } from "../../format/pxar/constants.js";

const CHATTR_TO_ENTRY: readonly (readonly [number, number])[] = [
  [0x00000020, ENTRY_FLAG.append], // FS_APPEND_FL
  [0x00000080, ENTRY_FLAG.noatime], // FS_NOATIME_FL
  [0x00000004, ENTRY_FLAG.compress], // FS_COMPR_FL
  [0x00800000, ENTRY_FLAG.nocow], // FS_NOCOW_FL
  [0x00000040, ENTRY_FLAG.nodump], // FS_NODUMP_FL
  [0x00010000, ENTRY_FLAG.dirsync], // FS_DIRSYNC_FL
  [0x00000010, ENTRY_FLAG.immutable], // FS_IMMUTABLE_FL
  [0x00000008, ENTRY_FLAG.sync], // FS_SYNC_FL
  [0x00000400, ENTRY_FLAG.nocomp], // FS_NOCOMP_FL
  [0x20000000, ENTRY_FLAG.projinherit], // FS_PROJINHERIT_FL
];

/** Inode flags that only take effect on an empty file, so a restore sets them on creation. */
export const INITIAL_CHATTR = 0x00800000;

/** Every chattr bit that pxar carries. */
export const CARRIED_CHATTR = CHATTR_TO_ENTRY.reduce((all, [chattr]) => all | chattr, 0);

export function entryFlagsFromChattr(chattr: number): number {
  let flags = 0;
  for (const [bit, entry] of CHATTR_TO_ENTRY) if ((chattr & bit) !== 0) flags |= entry;
  return flags;
}

export function chattrFromEntryFlags(flags: number): number {
  let chattr = 0;
  for (const [bit, entry] of CHATTR_TO_ENTRY) if ((flags & entry) !== 0) chattr |= bit;
  return chattr >>> 0;
}
