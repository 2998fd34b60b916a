/**
 * Decodes one entry by random access, from its FILENAME to the end of its items, and gives files
 * a content stream that reads their bytes on demand (from the archive, or from the `.ppxar` of a
 * split archive after checking the PAYLOAD header there).
 */
import { HEADER_SIZE, itemTypeName, PXAR } from "./constants.js";
import type { PxarEntry } from "./entries.js";
import { readEntryBody } from "./entry-body.js";
import { malformed } from "./errors.js";
import { decodeHardlink } from "./items.js";
import type { RangeReader } from "./range-reader.js";

/** Where an entry lies: from its FILENAME (or the archive start, for the root) to its end. */
export interface EntryRange {
  readonly start: number;
  readonly end: number;
}

/** An entry found by random access; a file's `content` can be read any number of times. */
export type LocatedEntry = PxarEntry & { readonly range: EntryRange };

const CONTENT_PIECE = 1024 * 1024;

/**
 * The entry whose FILENAME is at `start`, its items ending by `end`. `name` was read from that
 * FILENAME already; `pathBytes` is the absolute path to report.
 */
export async function decodeEntryAt(
  archive: RangeReader,
  payload: RangeReader | null,
  at: EntryRange,
  name: Buffer,
  pathBytes: Buffer,
): Promise<LocatedEntry> {
  const { start, end } = at;
  const source = archive.items(start, end);
  await source.content((await source.nextHeader("FILENAME"))!);
  const located = { path: pathBytes.toString(), pathBytes, name, fileOffset: start };
  const header = await source.nextHeader("entry");
  if (header === null) throw malformed("bad-layout", "entry ends after its FILENAME", start);
  const upTo = (stop: number) => ({ start, end: stop });
  if (header.htype === PXAR.hardlink) {
    const link = decodeHardlink(await source.content(header), header.offset, start);
    return { kind: "hardlink", ...located, ...link, range: upTo(source.position) };
  }
  const body = await readEntryBody(source, header);
  const { metadata } = body;
  switch (body.end.kind) {
    case "payload": {
      const size = body.end.header.contentSize;
      const from = body.end.header.offset + HEADER_SIZE;
      if (from + size > archive.size) {
        throw malformed("truncated", "PAYLOAD runs past the archive", body.end.header.offset);
      }
      const content = contentOf(archive, from, size);
      return {
        kind: "file",
        ...located,
        metadata,
        size,
        payloadRef: null,
        content,
        range: upTo(from + size),
      };
    }
    case "payload-ref": {
      const { ref } = body.end;
      const content = payload === null ? null : payloadContentOf(payload, ref.offset, ref.size);
      const size = ref.size;
      return {
        kind: "file",
        ...located,
        metadata,
        size,
        payloadRef: ref,
        content,
        range: upTo(source.position),
      };
    }
    case "symlink":
      return {
        kind: "symlink",
        ...located,
        metadata,
        target: body.end.target,
        range: upTo(source.position),
      };
    case "device": {
      const kind = body.kind as "block-device" | "char-device";
      return { kind, ...located, metadata, device: body.end.device, range: upTo(source.position) };
    }
    default:
      if (body.kind === "directory") return { kind: "directory", ...located, metadata, range: at };
      return {
        kind: body.kind as "fifo" | "socket",
        ...located,
        metadata,
        range: upTo(body.end.next?.offset ?? source.position),
      };
  }
}

function contentOf(reader: RangeReader, from: number, size: number): AsyncIterable<Buffer> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let at = 0; at < size; at += CONTENT_PIECE) {
        const length = Math.min(CONTENT_PIECE, size - at);
        yield Buffer.from(await reader.bytes(from + at, length, "file content"));
      }
    },
  };
}

/** A split archive's file: the PAYLOAD header at the reference is checked before the bytes. */
function payloadContentOf(
  reader: RangeReader,
  offset: number,
  size: number,
): AsyncIterable<Buffer> {
  const content = contentOf(reader, offset + HEADER_SIZE, size);
  return {
    async *[Symbol.asyncIterator]() {
      const header = await reader.header(offset, "PAYLOAD header");
      if (header.htype !== PXAR.payload || header.contentSize !== size) {
        const found = `${itemTypeName(header.htype)} of ${header.contentSize} bytes`;
        throw malformed(
          "bad-layout",
          `payload stream holds ${found}, not PAYLOAD of ${size}`,
          offset,
          {
            stream: "payload stream",
          },
        );
      }
      yield* content;
    },
  };
}
