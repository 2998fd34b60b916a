/**
 * An entry's ENTRY item and the attribute items after it, in the encoder order of pxar-format.md
 * §4.2: stat, xattrs, ACL parts, fcaps, quota project id.
 */
import { itemTypeName, MAX_XATTR_NAME_LENGTH, MAX_XATTR_VALUE_LENGTH, PXAR } from "./constants.js";
import { malformed, misuse } from "./errors.js";
import { encodeItem, expectContentSize, type ItemHeader } from "./header.js";
import {
  decodeAclDefault,
  decodeAclGroup,
  decodeAclUser,
  decodeXattr,
  encodeAclDefault,
  encodeAclGroup,
  encodeAclUser,
  encodeStat,
  encodeU64,
  encodeXattr,
  readU64,
} from "./items.js";
import type { Acl, AclDefault, AclGroup, AclUser, Metadata, Stat, Xattr } from "./types.js";

const U32_MAX = 0xffffffff;

/** ENTRY plus every attribute item of `metadata`, ready to write. */
export function encodeMetadata(metadata: Metadata): Buffer {
  checkMetadata(metadata);
  const { acl } = metadata;
  const items: Buffer[] = [encodeItem(PXAR.entry, encodeStat(metadata.stat))];
  for (const xattr of metadata.xattrs) items.push(encodeItem(PXAR.xattr, encodeXattr(xattr)));
  for (const user of acl.users) items.push(encodeItem(PXAR.aclUser, encodeAclUser(user)));
  for (const group of acl.groups) items.push(encodeItem(PXAR.aclGroup, encodeAclGroup(group)));
  if (acl.groupObj !== null) items.push(encodeItem(PXAR.aclGroupObj, encodeU64(acl.groupObj)));
  if (acl.default !== null) items.push(encodeItem(PXAR.aclDefault, encodeAclDefault(acl.default)));
  for (const user of acl.defaultUsers) {
    items.push(encodeItem(PXAR.aclDefaultUser, encodeAclUser(user)));
  }
  for (const group of acl.defaultGroups) {
    items.push(encodeItem(PXAR.aclDefaultGroup, encodeAclGroup(group)));
  }
  if (metadata.fcaps !== null) items.push(encodeItem(PXAR.fcaps, metadata.fcaps));
  if (metadata.quotaProjectId !== null) {
    items.push(encodeItem(PXAR.quotaProjectId, encodeU64(metadata.quotaProjectId)));
  }
  return Buffer.concat(items);
}

function checkMetadata(metadata: Metadata): void {
  const { stat, acl } = metadata;
  checkInteger("mode", stat.mode, Number.MAX_SAFE_INTEGER);
  checkInteger("flags", stat.flags, Number.MAX_SAFE_INTEGER);
  checkInteger("uid", stat.uid, U32_MAX);
  checkInteger("gid", stat.gid, U32_MAX);
  checkInteger("mtime nanos", stat.mtime.nanos, 999_999_999);
  if (!Number.isSafeInteger(stat.mtime.secs)) {
    throw misuse(`mtime secs ${stat.mtime.secs} is not a safe integer`);
  }
  for (const xattr of metadata.xattrs) checkXattr(xattr);
  for (const entry of [...acl.users, ...acl.defaultUsers]) {
    checkInteger("ACL uid", entry.uid, Number.MAX_SAFE_INTEGER);
    checkInteger("ACL permissions", entry.permissions, Number.MAX_SAFE_INTEGER);
  }
  for (const entry of [...acl.groups, ...acl.defaultGroups]) {
    checkInteger("ACL gid", entry.gid, Number.MAX_SAFE_INTEGER);
    checkInteger("ACL permissions", entry.permissions, Number.MAX_SAFE_INTEGER);
  }
  if (acl.groupObj !== null) checkInteger("ACL group_obj", acl.groupObj, Number.MAX_SAFE_INTEGER);
  for (const part of Object.values(acl.default ?? {})) {
    if (part !== null) checkInteger("ACL default part", part, Number.MAX_SAFE_INTEGER);
  }
  if (metadata.fcaps !== null && metadata.fcaps.length > MAX_XATTR_VALUE_LENGTH) {
    throw misuse(`fcaps of ${metadata.fcaps.length} bytes`);
  }
  if (metadata.quotaProjectId !== null) {
    checkInteger("quota project id", metadata.quotaProjectId, Number.MAX_SAFE_INTEGER);
  }
}

function checkInteger(field: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw misuse(`${field} ${value} is not an integer in 0…${max}`, { field, value });
  }
}

function checkXattr(xattr: Xattr): void {
  const { name, value } = xattr;
  if (name.length === 0 || name.length > MAX_XATTR_NAME_LENGTH || name.includes(0)) {
    throw misuse(
      `xattr name of ${name.length} bytes must be 1…${MAX_XATTR_NAME_LENGTH} without NUL`,
    );
  }
  if (value.length > MAX_XATTR_VALUE_LENGTH) {
    throw misuse(`xattr value of ${value.length} bytes exceeds ${MAX_XATTR_VALUE_LENGTH}`);
  }
}

const ATTRIBUTE_TYPES = new Set<bigint>([
  PXAR.xattr,
  PXAR.aclUser,
  PXAR.aclGroup,
  PXAR.aclGroupObj,
  PXAR.aclDefault,
  PXAR.aclDefaultUser,
  PXAR.aclDefaultGroup,
  PXAR.fcaps,
  PXAR.quotaProjectId,
]);

/** Whether an item of this type belongs to the attributes between ENTRY and the terminator. */
export function isAttribute(htype: bigint): boolean {
  return ATTRIBUTE_TYPES.has(htype);
}

/**
 * Gathers the attribute items that follow an ENTRY, accepting them in any order as pxar's reader
 * does, but refusing a second group_obj, default ACL, fcaps or quota project id.
 */
export class MetadataCollector {
  readonly #stat: Stat;
  readonly #xattrs: Xattr[] = [];
  readonly #users: AclUser[] = [];
  readonly #groups: AclGroup[] = [];
  readonly #defaultUsers: AclUser[] = [];
  readonly #defaultGroups: AclGroup[] = [];
  #groupObj: number | null = null;
  #default: AclDefault | null = null;
  #fcaps: Uint8Array | null = null;
  #quotaProjectId: number | null = null;

  constructor(stat: Stat) {
    this.#stat = stat;
  }

  /** Takes one attribute item (check `isAttribute` first). */
  add(header: ItemHeader, content: Buffer): void {
    const at = header.offset;
    switch (header.htype) {
      case PXAR.xattr:
        this.#xattrs.push(decodeXattr(content, at));
        return;
      case PXAR.aclUser:
        expectContentSize(header, 16);
        this.#users.push(decodeAclUser(content, at));
        return;
      case PXAR.aclGroup:
        expectContentSize(header, 16);
        this.#groups.push(decodeAclGroup(content, at));
        return;
      case PXAR.aclDefaultUser:
        expectContentSize(header, 16);
        this.#defaultUsers.push(decodeAclUser(content, at));
        return;
      case PXAR.aclDefaultGroup:
        expectContentSize(header, 16);
        this.#defaultGroups.push(decodeAclGroup(content, at));
        return;
      case PXAR.aclGroupObj:
        expectContentSize(header, 8);
        this.#once(this.#groupObj, header);
        this.#groupObj = readU64(content, 0, "ACL group_obj", at);
        return;
      case PXAR.aclDefault:
        expectContentSize(header, 32);
        this.#once(this.#default, header);
        this.#default = decodeAclDefault(content, at);
        return;
      case PXAR.fcaps:
        this.#once(this.#fcaps, header);
        this.#fcaps = content;
        return;
      case PXAR.quotaProjectId:
        expectContentSize(header, 8);
        this.#once(this.#quotaProjectId, header);
        this.#quotaProjectId = readU64(content, 0, "quota project id", at);
        return;
      default:
        throw malformed("bad-layout", `${itemTypeName(header.htype)} among attributes`, at);
    }
  }

  #once(current: unknown, header: ItemHeader): void {
    if (current !== null) {
      throw malformed("bad-layout", `second ${itemTypeName(header.htype)}`, header.offset);
    }
  }

  result(): Metadata {
    const acl: Acl = {
      users: this.#users,
      groups: this.#groups,
      groupObj: this.#groupObj,
      default: this.#default,
      defaultUsers: this.#defaultUsers,
      defaultGroups: this.#defaultGroups,
    };
    return {
      stat: this.#stat,
      xattrs: this.#xattrs,
      acl,
      fcaps: this.#fcaps,
      quotaProjectId: this.#quotaProjectId,
    };
  }
}
