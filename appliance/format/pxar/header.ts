import {
  GOODBYE_ITEM_SIZE,
  HEADER_SIZE,
  itemTypeName,
  MAX_FILENAME_LENGTH,
  MAX_PATH_LENGTH,
  MAX_XATTR_NAME_LENGTH,
  MAX_XATTR_VALUE_LENGTH,
  PXAR,
  STAT_SIZE,
} from "./constants.js";
import { malformed } from "./errors.js";

/** An item header as read: its type and the content length after the 16 header bytes. */
export interface ItemHeader {
  readonly htype: bigint;
  readonly contentSize: number;
  /** Offset of the header's first byte in its stream. */
  readonly offset: number;
}

/** Largest content a reader accepts per type (pxar `max_content_size`); absent = unbounded. */
const MAX_CONTENT_SIZE = new Map<bigint, number>([
  [PXAR.filename, MAX_FILENAME_LENGTH + 1],
  [PXAR.symlink, MAX_PATH_LENGTH + 1],
  [PXAR.hardlink, MAX_PATH_LENGTH + 1 + 8],
  [PXAR.device, 16],
  [PXAR.xattr, MAX_XATTR_NAME_LENGTH + MAX_XATTR_VALUE_LENGTH],
  [PXAR.fcaps, MAX_XATTR_NAME_LENGTH + MAX_XATTR_VALUE_LENGTH],
  [PXAR.aclUser, 16],
  [PXAR.aclDefaultUser, 16],
  [PXAR.aclGroup, 16],
  [PXAR.aclDefaultGroup, 16],
  [PXAR.aclDefault, 32],
  [PXAR.aclGroupObj, 8],
  [PXAR.quotaProjectId, 8],
  [PXAR.entry, STAT_SIZE],
  [PXAR.payloadRef, 16],
  [PXAR.payloadTailMarker, HEADER_SIZE],
]);

/** The 16 header bytes for an item of `contentSize` bytes. */
export function encodeHeader(htype: bigint, contentSize: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header.writeBigUInt64LE(htype, 0);
  header.writeBigUInt64LE(BigInt(HEADER_SIZE + contentSize), 8);
  return header;
}

/** A whole item: header followed by `content`. */
export function encodeItem(htype: bigint, content: Uint8Array): Buffer {
  const item = Buffer.allocUnsafe(HEADER_SIZE + content.length);
  item.writeBigUInt64LE(htype, 0);
  item.writeBigUInt64LE(BigInt(item.length), 8);
  item.set(content, HEADER_SIZE);
  return item;
}

/** Parses and size-checks the 16 bytes at `bytes[0..16]`, found at stream offset `offset`. */
export function decodeHeader(bytes: Uint8Array, offset: number): ItemHeader {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const htype = view.readBigUInt64LE(0);
  const fullSize = view.readBigUInt64LE(8);
  if (fullSize < BigInt(HEADER_SIZE)) {
    throw malformed(
      "bad-layout",
      `${itemTypeName(htype)} header claims ${fullSize} bytes`,
      offset,
      {
        htype: itemTypeName(htype),
      },
    );
  }
  const contentSize = fullSize - BigInt(HEADER_SIZE);
  const max = MAX_CONTENT_SIZE.get(htype);
  if ((max !== undefined && contentSize > BigInt(max)) || contentSize > Number.MAX_SAFE_INTEGER) {
    throw malformed("oversize", `${itemTypeName(htype)} of ${contentSize} content bytes`, offset, {
      htype: itemTypeName(htype),
      max,
    });
  }
  return { htype, contentSize: Number(contentSize), offset };
}

/** Throws unless a fixed-size item has exactly `size` content bytes. */
export function expectContentSize(header: ItemHeader, size: number): void {
  if (header.contentSize !== size) {
    throw malformed(
      "bad-layout",
      `${itemTypeName(header.htype)} has ${header.contentSize} content bytes, not ${size}`,
      header.offset,
    );
  }
}

/** Throws unless a goodbye table's content is a whole number (≥ 1) of 24-byte records. */
export function expectGoodbyeSize(header: ItemHeader): void {
  if (header.contentSize < GOODBYE_ITEM_SIZE || header.contentSize % GOODBYE_ITEM_SIZE !== 0) {
    throw malformed(
      "bad-layout",
      `GOODBYE of ${header.contentSize} content bytes is not a whole number of records`,
      header.offset,
    );
  }
}
