/**
 * Checks a GOODBYE table against the children the decoder saw (pxar-format.md §5): one record
 * per child, hashes in tree order, offsets and sizes that match, and a tail pointing back at
 * the directory's start.
 */
import { GOODBYE_ITEM_SIZE, HEADER_SIZE, PXAR } from "./constants.js";
import { malformed } from "./errors.js";
import { decodeGoodbyeRecords, treeOrder } from "./goodbye.js";
import { expectGoodbyeSize, type ItemHeader } from "./header.js";

/** A child as decoded: FILENAME offset, end offset, and for a split-archive file its size. */
export interface SeenChild {
  readonly hash: bigint;
  readonly start: number;
  readonly end: number;
  /** Set for PAYLOAD_REF files, whose record may also count the payload (pxar 1.0.0 quirk). */
  readonly refSize: number | null;
}

export function checkGoodbye(
  header: ItemHeader,
  content: Buffer,
  dirStart: number,
  children: readonly SeenChild[],
): void {
  expectGoodbyeSize(header);
  const count = content.length / GOODBYE_ITEM_SIZE - 1;
  const recordAt = (i: number) => header.offset + HEADER_SIZE + i * GOODBYE_ITEM_SIZE;
  if (count !== children.length) {
    throw malformed(
      "bad-layout",
      `GOODBYE lists ${count} children but the directory has ${children.length}`,
      header.offset,
    );
  }
  const records = decodeGoodbyeRecords(content, count + 1);
  const tail = records[count]!;
  if (
    tail.hash !== PXAR.goodbyeTailMarker ||
    tail.offset !== header.offset - dirStart ||
    tail.size !== HEADER_SIZE + content.length
  ) {
    throw malformed(
      "bad-layout",
      "GOODBYE tail record does not match its directory",
      recordAt(count),
    );
  }
  const expected = treeOrder(children);
  const byStart = new Map(children.map((child) => [child.start, child]));
  const used = new Set<number>();
  records.slice(0, count).forEach((record, i) => {
    const child = byStart.get(header.offset - record.offset);
    const exact = child === undefined ? -1 : child.end - child.start;
    const sizeOk =
      record.size === exact || (child?.refSize != null && record.size === exact + child.refSize);
    if (
      record.hash !== expected[i]!.hash ||
      child === undefined ||
      child.hash !== record.hash ||
      used.has(child.start) ||
      !sizeOk
    ) {
      throw malformed(
        "bad-layout",
        `GOODBYE record ${i} does not match the directory's children`,
        recordAt(i),
        {
          record: i,
        },
      );
    }
    used.add(child.start);
  });
}
