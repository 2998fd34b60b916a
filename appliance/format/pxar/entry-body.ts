/**
 * Reads what follows an ENTRY header — the stat, the attributes, and the item that ends the
 * entry — and works out the entry's kind from its mode and that item (pxar-format.md §4.2).
 * Shared by the streaming decoder and the random-access accessor through `ItemSource`.
 */
import { isAttribute, MetadataCollector } from "./attributes.js";
import { itemTypeName, PXAR, STAT_SIZE } from "./constants.js";
import { malformed } from "./errors.js";
import { expectContentSize, type ItemHeader } from "./header.js";
import { decodeDevice, decodePayloadRef, decodeStat, decodeStatV1, withoutNul } from "./items.js";
import {
  type DeviceNumber,
  type EntryKind,
  kindOfMode,
  type Metadata,
  type PayloadRef,
} from "./types.js";

/** Sequential access to items, from a stream or from a byte range of an archive. */
export interface ItemSource {
  /** The next header, or null where the source's range ends (a stream never ends here). */
  nextHeader(what: string): Promise<ItemHeader | null>;
  /** The content of the item whose header was just read. */
  content(header: ItemHeader): Promise<Buffer>;
}

/** How an entry ended. */
export type EntryEnd =
  /** PAYLOAD: the file's bytes follow the header (`header.offset + 16`). */
  | { readonly kind: "payload"; readonly header: ItemHeader }
  | { readonly kind: "payload-ref"; readonly header: ItemHeader; readonly ref: PayloadRef }
  | { readonly kind: "symlink"; readonly target: Buffer }
  | { readonly kind: "device"; readonly device: DeviceNumber }
  /** Directory, fifo or socket: the item after the attributes (FILENAME or GOODBYE), or the end. */
  | { readonly kind: "none"; readonly next: ItemHeader | null };

export interface EntryBody {
  readonly kind: Exclude<EntryKind, "hardlink">;
  readonly metadata: Metadata;
  readonly end: EntryEnd;
}

/** Reads the entry whose ENTRY (or legacy ENTRY_V1) header is `entry`. */
export async function readEntryBody(source: ItemSource, entry: ItemHeader): Promise<EntryBody> {
  const metadata = new MetadataCollector(await readStat(source, entry));
  for (;;) {
    const header = await source.nextHeader("entry attributes");
    if (header !== null && isAttribute(header.htype)) {
      metadata.add(header, await source.content(header));
      continue;
    }
    const result = metadata.result();
    const end = await readEnd(source, header);
    return { kind: kindFor(result, end, entry), metadata: result, end };
  }
}

async function readStat(source: ItemSource, entry: ItemHeader) {
  if (entry.htype === PXAR.entryV1) {
    return decodeStatV1(await source.content(entry), entry.offset);
  }
  if (entry.htype !== PXAR.entry) {
    throw malformed(
      "bad-layout",
      `expected ENTRY, found ${itemTypeName(entry.htype)}`,
      entry.offset,
    );
  }
  expectContentSize(entry, STAT_SIZE);
  return decodeStat(await source.content(entry), entry.offset);
}

async function readEnd(source: ItemSource, header: ItemHeader | null): Promise<EntryEnd> {
  if (header === null) return { kind: "none", next: null };
  switch (header.htype) {
    case PXAR.payload:
      return { kind: "payload", header };
    case PXAR.payloadRef:
      expectContentSize(header, 16);
      return {
        kind: "payload-ref",
        header,
        ref: decodePayloadRef(await source.content(header), header.offset),
      };
    case PXAR.symlink:
      return {
        kind: "symlink",
        target: withoutNul(await source.content(header), "SYMLINK", header.offset),
      };
    case PXAR.device:
      expectContentSize(header, 16);
      return { kind: "device", device: decodeDevice(await source.content(header), header.offset) };
    case PXAR.filename:
    case PXAR.goodbye:
      return { kind: "none", next: header };
    default:
      throw malformed(
        "bad-layout",
        `${itemTypeName(header.htype)} after entry attributes`,
        header.offset,
      );
  }
}

/** The kind the mode announces, provided the ending item fits it. */
function kindFor(metadata: Metadata, end: EntryEnd, entry: ItemHeader): EntryBody["kind"] {
  const kind = kindOfMode(metadata.stat.mode);
  const fits =
    (kind === "file" && (end.kind === "payload" || end.kind === "payload-ref")) ||
    (kind === "symlink" && end.kind === "symlink") ||
    ((kind === "block-device" || kind === "char-device") && end.kind === "device") ||
    ((kind === "directory" || kind === "fifo" || kind === "socket") && end.kind === "none");
  if (kind === undefined || !fits) {
    throw malformed(
      "bad-layout",
      `entry of mode ${metadata.stat.mode.toString(8)} ends with ${end.kind === "none" ? "no content item" : end.kind.toUpperCase()}`,
      entry.offset,
    );
  }
  return kind;
}
