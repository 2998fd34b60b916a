/**
 * POSIX ACLs as Linux stores them in the `system.posix_acl_access` / `system.posix_acl_default`
 * xattrs (a u32 version 2, then entries of `tag u16, perm u16, id u32`, little-endian), turned
 * into pxar's Acl model the way the PBS archiver does it, and back for restoring.
 */
import { ACL_PERMISSION } from "../../format/pxar/constants.js";
import type { Acl, AclDefault, AclGroup, AclUser } from "../../format/pxar/types.js";

export const ACL_ACCESS_XATTR = "system.posix_acl_access";
export const ACL_DEFAULT_XATTR = "system.posix_acl_default";

const VERSION = 2;
const HEADER_SIZE = 4;
const ENTRY_SIZE = 8;
const UNDEFINED_ID = 0xffffffff;
const PERMISSION_BITS = ACL_PERMISSION.read | ACL_PERMISSION.write | ACL_PERMISSION.execute;

const TAG = {
  userObj: 0x01,
  user: 0x02,
  groupObj: 0x04,
  group: 0x08,
  mask: 0x10,
  other: 0x20,
} as const;

/** Every entry of one ACL; the fixed parts are null when absent. */
export interface AclEntries {
  readonly userObj: number | null;
  readonly groupObj: number | null;
  readonly other: number | null;
  readonly mask: number | null;
  readonly users: readonly AclUser[];
  readonly groups: readonly AclGroup[];
}

export class AclFormatError extends Error {
  override name = "AclFormatError";
}

export function decodeAclXattr(bytes: Uint8Array): AclEntries {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.length < HEADER_SIZE || (view.length - HEADER_SIZE) % ENTRY_SIZE !== 0) {
    throw new AclFormatError(`ACL xattr of ${view.length} bytes is not 4 + 8·n`);
  }
  const version = view.readUInt32LE(0);
  if (version !== VERSION) throw new AclFormatError(`ACL xattr version ${version}, expected 2`);
  const fixed = { userObj: null, groupObj: null, other: null, mask: null } as Record<
    "userObj" | "groupObj" | "other" | "mask",
    number | null
  >;
  const users: AclUser[] = [];
  const groups: AclGroup[] = [];
  for (let at = HEADER_SIZE; at < view.length; at += ENTRY_SIZE) {
    const tag = view.readUInt16LE(at);
    const permissions = view.readUInt16LE(at + 2) & PERMISSION_BITS;
    const id = view.readUInt32LE(at + 4);
    switch (tag) {
      case TAG.userObj:
        fixed.userObj = permissions;
        break;
      case TAG.groupObj:
        fixed.groupObj = permissions;
        break;
      case TAG.other:
        fixed.other = permissions;
        break;
      case TAG.mask:
        fixed.mask = permissions;
        break;
      case TAG.user:
        users.push({ uid: id, permissions });
        break;
      case TAG.group:
        groups.push({ gid: id, permissions });
        break;
      default:
        throw new AclFormatError(`unknown ACL tag 0x${tag.toString(16)}`);
    }
  }
  return { ...fixed, users: sortedUsers(users), groups: sortedGroups(groups) };
}

/** The access ACL's share of pxar's Acl: group_obj only when there is a mask (PBS). */
export function accessPart(entries: AclEntries): Pick<Acl, "users" | "groups" | "groupObj"> {
  return {
    users: entries.users,
    groups: entries.groups,
    groupObj: entries.mask !== null ? entries.groupObj : null,
  };
}

/** The default ACL's share of pxar's Acl. */
export function defaultPart(
  entries: AclEntries,
): Pick<Acl, "default" | "defaultUsers" | "defaultGroups"> {
  const { userObj, groupObj, other, mask } = entries;
  const anyFixed = userObj !== null || groupObj !== null || other !== null || mask !== null;
  return {
    default: anyFixed ? { userObj, groupObj, other, mask } : null,
    defaultUsers: entries.users,
    defaultGroups: entries.groups,
  };
}

/**
 * The `system.posix_acl_access` value restoring `acl` on a file of `mode`, or null when the
 * access ACL has nothing beyond the mode. The owner, group and other parts come from the mode;
 * with a stored group_obj the mode's group bits are the mask.
 */
export function encodeAccessAcl(mode: number, acl: Acl): Buffer | null {
  if (acl.users.length === 0 && acl.groups.length === 0 && acl.groupObj === null) return null;
  const groupBits = (mode >> 3) & PERMISSION_BITS;
  return encodeEntries({
    userObj: (mode >> 6) & PERMISSION_BITS,
    groupObj: acl.groupObj ?? groupBits,
    other: mode & PERMISSION_BITS,
    // named entries need a mask; without a stored group_obj PBS resets it to the group bits
    mask: groupBits,
    users: acl.users,
    groups: acl.groups,
  });
}

/** The `system.posix_acl_default` value for a directory, or null when it has no default ACL. */
export function encodeDefaultAcl(acl: Acl): Buffer | null {
  const fixed: AclDefault | null = acl.default;
  if (fixed === null) return null;
  return encodeEntries({ ...fixed, users: acl.defaultUsers, groups: acl.defaultGroups });
}

/** Entries in the order the kernel requires: owner, users by id, group, groups by id, mask, other. */
function encodeEntries(entries: AclEntries): Buffer {
  const list: [number, number, number][] = [];
  const add = (tag: number, permissions: number | null, id = UNDEFINED_ID) => {
    if (permissions !== null) list.push([tag, permissions, id]);
  };
  add(TAG.userObj, entries.userObj);
  for (const user of sortedUsers(entries.users)) add(TAG.user, user.permissions, user.uid);
  add(TAG.groupObj, entries.groupObj);
  for (const group of sortedGroups(entries.groups)) add(TAG.group, group.permissions, group.gid);
  add(TAG.mask, entries.mask);
  add(TAG.other, entries.other);
  const out = Buffer.alloc(HEADER_SIZE + ENTRY_SIZE * list.length);
  out.writeUInt32LE(VERSION, 0);
  list.forEach(([tag, permissions, id], index) => {
    const at = HEADER_SIZE + ENTRY_SIZE * index;
    if (!Number.isInteger(id) || id < 0 || id > UNDEFINED_ID) {
      throw new AclFormatError(`ACL id ${id} does not fit 32 bits`);
    }
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(permissions & PERMISSION_BITS, at + 2);
    out.writeUInt32LE(id, at + 4);
  });
  return out;
}

/** Sorted by (id, permissions), as the PBS archiver stores them. */
function sortedUsers(users: readonly AclUser[]): AclUser[] {
  return [...users].sort((a, b) => a.uid - b.uid || a.permissions - b.permissions);
}

function sortedGroups(groups: readonly AclGroup[]): AclGroup[] {
  return [...groups].sort((a, b) => a.gid - b.gid || a.permissions - b.permissions);
}
