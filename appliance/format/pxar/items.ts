/**
 * The content of each pxar item, both ways (pxar-format.md §3). Encoders take validated values;
 * decoders take an item's content bytes plus its header offset for error messages.
 */
import { ACL_NOT_SET, MAX_FILENAME_LENGTH, STAT_SIZE, STAT_V1_SIZE } from "./constants.js";
import { malformed } from "./errors.js";
import type {
  AclDefault,
  AclGroup,
  AclUser,
  DeviceNumber,
  PayloadRef,
  Stat,
  Xattr,
} from "./types.js";

const NANOS_PER_SECOND = 1_000_000_000n;

/** A u64 field as a number; values beyond 2^53 cannot be represented and are refused. */
export function readU64(content: Buffer, at: number, field: string, offset: number): number {
  const value = content.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw malformed("bad-layout", `${field} ${value} is beyond 2^53`, offset, { field });
  }
  return Number(value);
}

function readI64(content: Buffer, at: number, field: string, offset: number): number {
  const value = content.readBigInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw malformed("bad-layout", `${field} ${value} is beyond 2^53`, offset, { field });
  }
  return Number(value);
}

export function encodeStat(stat: Stat): Buffer {
  const out = Buffer.alloc(STAT_SIZE);
  out.writeBigUInt64LE(BigInt(stat.mode), 0);
  out.writeBigUInt64LE(BigInt(stat.flags), 8);
  out.writeUInt32LE(stat.uid, 16);
  out.writeUInt32LE(stat.gid, 20);
  out.writeBigInt64LE(BigInt(stat.mtime.secs), 24);
  out.writeUInt32LE(stat.mtime.nanos, 32);
  return out;
}

export function decodeStat(content: Buffer, offset: number): Stat {
  return {
    mode: readU64(content, 0, "mode", offset),
    flags: readU64(content, 8, "flags", offset),
    uid: content.readUInt32LE(16),
    gid: content.readUInt32LE(20),
    mtime: { secs: readI64(content, 24, "mtime", offset), nanos: content.readUInt32LE(32) },
  };
}

/** The legacy 32-byte stat, whose mtime is unsigned nanoseconds since the epoch. */
export function decodeStatV1(content: Buffer, offset: number): Stat {
  if (content.length !== STAT_V1_SIZE) {
    throw malformed("bad-layout", `ENTRY_V1 has ${content.length} bytes`, offset);
  }
  const mtime = content.readBigUInt64LE(24);
  return {
    mode: readU64(content, 0, "mode", offset),
    flags: readU64(content, 8, "flags", offset),
    uid: content.readUInt32LE(16),
    gid: content.readUInt32LE(20),
    mtime: { secs: Number(mtime / NANOS_PER_SECOND), nanos: Number(mtime % NANOS_PER_SECOND) },
  };
}

/** Bytes followed by the NUL terminator that FILENAME, SYMLINK and HARDLINK paths carry. */
export function withNul(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** The bytes before the terminating NUL; `what` names the item for the error. */
export function withoutNul(content: Buffer, what: string, offset: number): Buffer {
  if (content.length === 0 || content[content.length - 1] !== 0) {
    throw malformed("bad-layout", `${what} lacks its terminating NUL`, offset);
  }
  return content.subarray(0, content.length - 1);
}

/** Why a file name is not storable, or undefined when it is. */
export function filenameProblem(name: Uint8Array): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.length > MAX_FILENAME_LENGTH) return `is longer than ${MAX_FILENAME_LENGTH} bytes`;
  if (name.includes(0x2f)) return "contains '/'";
  if (name.includes(0)) return "contains NUL";
  if (name.length <= 2 && name.every((byte) => byte === 0x2e)) return "is '.' or '..'";
  return undefined;
}

/** A FILENAME's name, checked as pxar checks it. */
export function decodeFilename(content: Buffer, offset: number): Buffer {
  const name = withoutNul(content, "FILENAME", offset);
  const problem = filenameProblem(name);
  if (problem !== undefined) throw malformed("bad-layout", `file name ${problem}`, offset);
  return name;
}

export function encodeXattr(xattr: Xattr): Buffer {
  const out = Buffer.alloc(xattr.name.length + 1 + xattr.value.length);
  out.set(xattr.name);
  out.set(xattr.value, xattr.name.length + 1);
  return out;
}

export function decodeXattr(content: Buffer, offset: number): Xattr {
  const nul = content.indexOf(0);
  if (nul < 0) throw malformed("bad-layout", "XATTR lacks the NUL after its name", offset);
  return { name: content.subarray(0, nul), value: content.subarray(nul + 1) };
}

function twoU64(first: number, second: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeBigUInt64LE(BigInt(first), 0);
  out.writeBigUInt64LE(BigInt(second), 8);
  return out;
}

export function encodeAclUser(entry: AclUser): Buffer {
  return twoU64(entry.uid, entry.permissions);
}

export function decodeAclUser(content: Buffer, offset: number): AclUser {
  return {
    uid: readU64(content, 0, "ACL uid", offset),
    permissions: readU64(content, 8, "ACL permissions", offset),
  };
}

export function encodeAclGroup(entry: AclGroup): Buffer {
  return twoU64(entry.gid, entry.permissions);
}

export function decodeAclGroup(content: Buffer, offset: number): AclGroup {
  return {
    gid: readU64(content, 0, "ACL gid", offset),
    permissions: readU64(content, 8, "ACL permissions", offset),
  };
}

export function encodeU64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(value));
  return out;
}

const DEFAULT_PARTS = ["userObj", "groupObj", "other", "mask"] as const;

export function encodeAclDefault(entry: AclDefault): Buffer {
  const out = Buffer.alloc(32);
  DEFAULT_PARTS.forEach((part, i) => {
    const value = entry[part];
    out.writeBigUInt64LE(value === null ? ACL_NOT_SET : BigInt(value), i * 8);
  });
  return out;
}

export function decodeAclDefault(content: Buffer, offset: number): AclDefault {
  const part = (i: number): number | null =>
    content.readBigUInt64LE(i * 8) === ACL_NOT_SET
      ? null
      : readU64(content, i * 8, `ACL default ${DEFAULT_PARTS[i]}`, offset);
  return { userObj: part(0), groupObj: part(1), other: part(2), mask: part(3) };
}

export function encodeDevice(device: DeviceNumber): Buffer {
  return twoU64(device.major, device.minor);
}

export function decodeDevice(content: Buffer, offset: number): DeviceNumber {
  return {
    major: readU64(content, 0, "device major", offset),
    minor: readU64(content, 8, "device minor", offset),
  };
}

export function encodePayloadRef(ref: PayloadRef): Buffer {
  return twoU64(ref.offset, ref.size);
}

export function decodePayloadRef(content: Buffer, offset: number): PayloadRef {
  return {
    offset: readU64(content, 0, "payload offset", offset),
    size: readU64(content, 8, "payload size", offset),
  };
}

/** HARDLINK content: the backwards distance between FILENAME headers, then the target path. */
export function encodeHardlink(distance: number, targetPath: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + targetPath.length + 1);
  out.writeBigUInt64LE(BigInt(distance), 0);
  out.set(targetPath, 8);
  return out;
}

/** A HARDLINK's target, for the link whose FILENAME header is at `filenameOffset`. */
export function decodeHardlink(
  content: Buffer,
  offset: number,
  filenameOffset: number,
): { targetOffset: number; target: Buffer } {
  if (content.length <= 8) throw malformed("bad-layout", "HARDLINK is too short", offset);
  const distance = readU64(content, 0, "hardlink offset", offset);
  if (distance === 0 || distance > filenameOffset) {
    throw malformed("bad-layout", `HARDLINK offset ${distance} points outside the archive`, offset);
  }
  return {
    targetOffset: filenameOffset - distance,
    target: withoutNul(content.subarray(8), "HARDLINK path", offset),
  };
}
