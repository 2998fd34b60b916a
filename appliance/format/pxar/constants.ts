/**
 * pxar's fixed numbers (pxar-format.md §1–§3, from the `proxmox/pxar` crate 1.0.0): item type
 * constants, which are SipHash-2-4 values of marker strings under the archive key (checked by
 * test/format/pxar/constants.test.ts), mode bits and size limits.
 */
import { type SipHashKey, sipHash24 } from "./siphash.js";

/** The first 32 hex digits of SHA-1("PROXMOX ARCHIVE FORMAT"), as two 64-bit halves. */
export const PXAR_HASH_KEY: SipHashKey = { k0: 0x83ac3f1cfbb450dbn, k1: 0xaa4f1b6879369fbdn };

/** Item types: the first 8 bytes of every item header. */
export const PXAR = {
  formatVersion: 0x730f6c75df16a40dn,
  entry: 0xd5956474e588acefn,
  entryV1: 0x11da850a1c1cceffn,
  prelude: 0xe309d79d9f7b771bn,
  filename: 0x16701121063917b3n,
  symlink: 0x27f971e7dbf5dc5fn,
  device: 0x9fc9e906586d5ce9n,
  xattr: 0x0dab0229b57dcd03n,
  aclUser: 0x2ce8540a457d55b8n,
  aclGroup: 0x136e3eceb04c03abn,
  aclGroupObj: 0x10868031e9582876n,
  aclDefault: 0xbbbb13415a6896f5n,
  aclDefaultUser: 0xc89357b40532cd1fn,
  aclDefaultGroup: 0xf90a8a5816038ffen,
  fcaps: 0x2da9dd9db5f7fb67n,
  quotaProjectId: 0xe07540e82f7d1cbbn,
  hardlink: 0x51269c8422bd7275n,
  payload: 0x28147a1b0b7c1a25n,
  payloadRef: 0x419d3d6bc4ba977en,
  goodbye: 0x2fec4fa642d5731dn,
  goodbyeTailMarker: 0xef5eed5b753e1555n,
  payloadStartMarker: 0x834c68c2194a4ed2n,
  payloadTailMarker: 0x6c72b78b984c81b5n,
} as const;

export type PxarItemType = keyof typeof PXAR;

/** The marker strings whose hashes are the item types. */
export const PXAR_MARKER: Record<PxarItemType, string> = {
  formatVersion: "__PROXMOX_FORMAT_VERSION__",
  entry: "__PROXMOX_FORMAT_ENTRY_V2__",
  entryV1: "__PROXMOX_FORMAT_ENTRY__",
  prelude: "__PROXMOX_FORMAT_PRELUDE__",
  filename: "__PROXMOX_FORMAT_FILENAME__",
  symlink: "__PROXMOX_FORMAT_SYMLINK__",
  device: "__PROXMOX_FORMAT_DEVICE__",
  xattr: "__PROXMOX_FORMAT_XATTR__",
  aclUser: "__PROXMOX_FORMAT_ACL_USER__",
  aclGroup: "__PROXMOX_FORMAT_ACL_GROUP__",
  aclGroupObj: "__PROXMOX_FORMAT_ACL_GROUP_OBJ__",
  aclDefault: "__PROXMOX_FORMAT_ACL_DEFAULT__",
  aclDefaultUser: "__PROXMOX_FORMAT_ACL_DEFAULT_USER__",
  aclDefaultGroup: "__PROXMOX_FORMAT_ACL_DEFAULT_GROUP__",
  fcaps: "__PROXMOX_FORMAT_FCAPS__",
  quotaProjectId: "__PROXMOX_FORMAT_QUOTA_PROJID__",
  hardlink: "__PROXMOX_FORMAT_HARDLINK__",
  payload: "__PROXMOX_FORMAT_PXAR_PAYLOAD__",
  payloadRef: "__PROXMOX_FORMAT_PXAR_PAYLOAD_REF__",
  goodbye: "__PROXMOX_FORMAT_GOODBYE__",
  goodbyeTailMarker: "__PROXMOX_FORMAT_PXAR_GOODBYE_TAIL_MARKER__",
  payloadStartMarker: "__PROXMOX_FORMAT_PXAR_PAYLOAD_START_MARKER__",
  payloadTailMarker: "__PROXMOX_FORMAT_PXAR_PAYLOAD_TAIL_MARKER__",
};

const TYPE_NAMES = new Map<bigint, PxarItemType>(
  Object.entries(PXAR).map(([name, value]) => [value, name as PxarItemType]),
);

/** The name of an item type for messages, or its hex value when unknown. */
export function itemTypeName(htype: bigint): string {
  return TYPE_NAMES.get(htype) ?? `unknown type 0x${htype.toString(16).padStart(16, "0")}`;
}

/** The goodbye-table hash of a file name: SipHash-2-4 of its raw bytes under the archive key. */
export function hashFilename(name: Uint8Array): bigint {
  return sipHash24(PXAR_HASH_KEY, name);
}

/** Every item opens with `htype u64, full_size u64`; full_size counts these 16 bytes. */
export const HEADER_SIZE = 16;
/** A goodbye record: `hash u64, offset u64, size u64`. */
export const GOODBYE_ITEM_SIZE = 24;
/** ENTRY content: mode, flags, uid, gid, mtime secs, mtime nanos, padding. */
export const STAT_SIZE = 40;
/** ENTRY_V1 content: mode, flags, uid, gid, mtime in nanoseconds. */
export const STAT_V1_SIZE = 32;
export const FORMAT_VERSION_SIZE = 8;

/** The only version written (split archives); 1 and 2 are read. */
export const FORMAT_VERSION_2 = 2;

export const MAX_FILENAME_LENGTH = 4096;
export const MAX_PATH_LENGTH = 4096;
export const MAX_XATTR_NAME_LENGTH = 255;
export const MAX_XATTR_VALUE_LENGTH = 65536;

/** Mode bits, equal to Linux's and fixed by the format. */
export const MODE = {
  typeMask: 0o170000,
  socket: 0o140000,
  symlink: 0o120000,
  regular: 0o100000,
  blockDevice: 0o060000,
  directory: 0o040000,
  charDevice: 0o020000,
  fifo: 0o010000,
  setuid: 0o4000,
  setgid: 0o2000,
  sticky: 0o1000,
} as const;

/** ACL permission bits, and the value ACL_DEFAULT stores for a part that is not set. */
export const ACL_PERMISSION = { read: 4, write: 2, execute: 1 } as const;
export const ACL_NOT_SET = 0xffffffffffffffffn;

/** Per-file ENTRY flag bits (chattr / FAT attributes) the PBS archiver stores. */
export const ENTRY_FLAG = {
  fatHidden: 0x2000,
  fatSystem: 0x4000,
  fatArchive: 0x8000,
  append: 0x10000,
  noatime: 0x20000,
  compress: 0x40000,
  nocow: 0x80000,
  nodump: 0x100000,
  dirsync: 0x200000,
  immutable: 0x400000,
  sync: 0x800000,
  nocomp: 0x1000000,
  projinherit: 0x2000000,
  subvolume: 0x4000000,
  subvolumeReadOnly: 0x8000000,
} as const;
