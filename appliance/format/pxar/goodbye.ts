/**
 * The GOODBYE table that closes every directory (pxar-format.md §5): one record per child, sorted
 * by name hash and laid out as an implicit binary search tree (children of index i at 2i+1 and
 * 2i+2), then a tail record pointing back at the directory's own start.
 */
import { GOODBYE_ITEM_SIZE, HEADER_SIZE, PXAR } from "./constants.js";
import { encodeHeader } from "./header.js";

/** One 24-byte record: `offset` is the backwards distance from the GOODBYE header. */
export interface GoodbyeRecord {
  readonly hash: bigint;
  readonly offset: number;
  readonly size: number;
}

/** A child as the encoder saw it: absolute start of its FILENAME header and its byte size. */
export interface GoodbyeChild {
  readonly hash: bigint;
  readonly start: number;
  readonly size: number;
}

/**
 * For n hash-sorted records, `layout[i]` is which sorted record sits at array index i: an
 * in-order walk of the complete tree over indices 0…n−1 visits the sorted records in turn.
 */
export function bstLayout(n: number): number[] {
  const layout = new Array<number>(n);
  const stack: number[] = [];
  let next = 0;
  let i = 0;
  while (stack.length > 0 || i < n) {
    while (i < n) {
      stack.push(i);
      i = 2 * i + 1;
    }
    i = stack.pop()!;
    layout[i] = next++;
    i = 2 * i + 2;
  }
  return layout;
}

/** Children sorted by hash and placed in tree order. */
export function treeOrder<T extends { readonly hash: bigint }>(children: readonly T[]): T[] {
  const sorted = [...children].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return bstLayout(sorted.length).map((k) => sorted[k]!);
}

/** Total bytes of the GOODBYE item for `count` children. */
export function goodbyeSize(count: number): number {
  return HEADER_SIZE + GOODBYE_ITEM_SIZE * (count + 1);
}

/**
 * The whole GOODBYE item written at `goodbyeStart` for a directory whose first byte (its ENTRY,
 * or the archive's first byte for the root) is at `dirStart`.
 */
export function encodeGoodbye(
  children: readonly GoodbyeChild[],
  goodbyeStart: number,
  dirStart: number,
): Buffer {
  const size = goodbyeSize(children.length);
  const out = Buffer.alloc(size);
  encodeHeader(PXAR.goodbye, size - HEADER_SIZE).copy(out, 0);
  let at = HEADER_SIZE;
  const put = (record: GoodbyeRecord): void => {
    out.writeBigUInt64LE(record.hash, at);
    out.writeBigUInt64LE(BigInt(record.offset), at + 8);
    out.writeBigUInt64LE(BigInt(record.size), at + 16);
    at += GOODBYE_ITEM_SIZE;
  };
  for (const child of treeOrder(children)) {
    put({ hash: child.hash, offset: goodbyeStart - child.start, size: child.size });
  }
  put({ hash: PXAR.goodbyeTailMarker, offset: goodbyeStart - dirStart, size });
  return out;
}

/** Reads `count` records from `bytes` (no header). */
export function decodeGoodbyeRecords(bytes: Buffer, count: number): GoodbyeRecord[] {
  const records: GoodbyeRecord[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * GOODBYE_ITEM_SIZE;
    records.push({
      hash: bytes.readBigUInt64LE(at),
      offset: unsafeToNumber(bytes.readBigUInt64LE(at + 8)),
      size: unsafeToNumber(bytes.readBigUInt64LE(at + 16)),
    });
  }
  return records;
}

/** Values past 2^53 become Infinity so that every later range check fails on them. */
function unsafeToNumber(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
}

/**
 * Indices of every record whose hash equals `hash`, nearest the root first. Equal hashes may sit
 * in both subtrees of a match, so both are searched on a hit.
 */
export function findHash(records: readonly GoodbyeRecord[], hash: bigint): number[] {
  const found: number[] = [];
  const pending = [0];
  while (pending.length > 0) {
    const i = pending.shift()!;
    if (i >= records.length) continue;
    const here = records[i]!.hash;
    if (hash < here) pending.push(2 * i + 1);
    else if (hash > here) pending.push(2 * i + 2);
    else {
      found.push(i);
      pending.push(2 * i + 1, 2 * i + 2);
    }
  }
  return found;
}
