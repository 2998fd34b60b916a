/**
 * Reads a pxar archive front to back from a stream of pieces (pxar-format.md §4–§6), yielding
 * every entry with its path, and each directory's end. Checks the structure as it goes: item
 * sizes, the order of items, that each goodbye table matches the directory it closes, and that
 * nothing follows the root; errors name the offset.
 */
import { ChunkReader } from "./chunk-reader.js";
import { FORMAT_VERSION_SIZE, HEADER_SIZE, hashFilename, itemTypeName, PXAR } from "./constants.js";
import {
  childPath,
  type DecodedItem,
  type DirectoryEnd,
  type PxarEntry,
  ROOT_PATH,
} from "./entries.js";
import { type EntryBody, type ItemSource, readEntryBody } from "./entry-body.js";
import { malformed } from "./errors.js";
import { checkGoodbye, type SeenChild } from "./goodbye-check.js";
import { decodeHeader, expectContentSize, type ItemHeader } from "./header.js";
import { decodeFilename, decodeHardlink, readU64 } from "./items.js";
import { PayloadStreamReader } from "./payload-stream.js";

export interface PxarDecoderOptions {
  /** The `.ppxar` stream of a split archive; without it, files there come with `content: null`. */
  readonly payload?: AsyncIterable<Uint8Array>;
}

/** Largest item read whole, not streamed: a goodbye table of some 11 million children. */
const MAX_WHOLE_ITEM = 256 * 1024 * 1024;

interface OpenDirectory {
  readonly pathBytes: Buffer;
  /** Offset of its ENTRY (0 for the root: the archive's first byte). */
  readonly start: number;
  readonly fileOffset: number;
  readonly hash: bigint;
  readonly children: SeenChild[];
}

type Located = Pick<PxarEntry, "path" | "pathBytes" | "name" | "fileOffset">;

/** One file's bytes, handed out until the decoder moves on. */
class ContentWindow {
  #left: number;
  #closed = false;

  constructor(
    private readonly reader: ChunkReader,
    size: number,
    private readonly path: string,
  ) {
    this.#left = size;
  }

  async *read(): AsyncGenerator<Buffer> {
    this.#checkOpen();
    while (this.#left > 0) {
      const piece = await this.reader.next(this.#left, `content of ${this.path}`);
      this.#left -= piece.length;
      yield piece;
      if (this.#left > 0) this.#checkOpen();
    }
  }

  /** Ends the window; with `skip` the unread rest is consumed from the stream. */
  async close(skip: boolean): Promise<void> {
    this.#closed = true;
    if (skip) await this.reader.skip(this.#left, `content of ${this.path}`);
    this.#left = 0;
  }

  #checkOpen(): void {
    if (this.#closed) {
      const message = `content of ${this.path} read after the decoder moved on`;
      throw malformed("invalid-argument", message, this.reader.position);
    }
  }
}

/** Iterate once: `for await (const item of new PxarDecoder(chunks)) …`. */
export class PxarDecoder implements AsyncIterable<DecodedItem> {
  readonly #reader: ChunkReader;
  readonly #payload: PayloadStreamReader | null;
  readonly #source: ItemSource;
  readonly #stack: OpenDirectory[] = [];
  /** An item already read that the next step must handle (what ends a dir, fifo or socket). */
  #pending: ItemHeader | null = null;
  #version: 1 | 2 = 1;
  #prelude: Buffer | null = null;
  #started = false;

  constructor(archive: AsyncIterable<Uint8Array>, options: PxarDecoderOptions = {}) {
    this.#reader = new ChunkReader(archive, "archive");
    this.#payload = options.payload === undefined ? null : new PayloadStreamReader(options.payload);
    this.#source = { nextHeader: (what) => this.#next(what), content: (h) => this.#content(h) };
  }

  /** Format version: 2 for a split `.mpxar`, 1 otherwise (known once the first entry is out). */
  get version(): 1 | 2 {
    return this.#version;
  }

  /** PRELUDE bytes of a v2 archive, if it has one (known once the first entry is out). */
  get prelude(): Buffer | null {
    return this.#prelude;
  }

  [Symbol.asyncIterator](): AsyncGenerator<DecodedItem> {
    if (this.#started) throw new Error("a PxarDecoder is iterated once");
    this.#started = true;
    return this.#items();
  }

  async *#items(): AsyncGenerator<DecodedItem> {
    yield await this.#openRoot();
    while (this.#stack.length > 0) {
      const header = this.#pending ?? (await this.#next("directory"));
      this.#pending = null;
      if (header.htype === PXAR.goodbye) yield await this.#closeDirectory(header);
      else if (header.htype === PXAR.filename) yield* this.#child(header);
      else {
        const found = itemTypeName(header.htype);
        throw malformed(
          "bad-layout",
          `expected FILENAME or GOODBYE, found ${found}`,
          header.offset,
        );
      }
    }
    if (!(await this.#reader.atEnd())) {
      throw malformed("bad-layout", "bytes follow the root goodbye table", this.#reader.position);
    }
    await this.#payload?.finish();
  }

  /** FORMAT_VERSION and PRELUDE if present, then the root directory's entry. */
  async #openRoot(): Promise<PxarEntry> {
    let header = await this.#next("archive start");
    if (header.htype === PXAR.formatVersion) {
      expectContentSize(header, FORMAT_VERSION_SIZE);
      const version = readU64(await this.#content(header), 0, "format version", 0);
      if (version !== 1 && version !== 2) {
        throw malformed("bad-layout", `unknown format version ${version}`, header.offset);
      }
      this.#version = version;
      header = await this.#next("archive start");
      if (header.htype === PXAR.prelude) {
        this.#prelude = await this.#content(header);
        header = await this.#next("root entry");
      }
    }
    if (this.#payload !== null && this.#version !== 2) {
      throw malformed("invalid-argument", "a payload stream was given for a format 1 archive", 0);
    }
    const root = await readEntryBody(this.#source, header);
    if (root.kind !== "directory") {
      throw malformed("bad-layout", `the root is a ${root.kind}`, header.offset);
    }
    this.#stack.push({ pathBytes: ROOT_PATH, start: 0, fileOffset: 0, hash: 0n, children: [] });
    this.#pending = root.end.kind === "none" ? root.end.next : null;
    const name = Buffer.alloc(0);
    const located = { path: "/", pathBytes: ROOT_PATH, name, fileOffset: null };
    return { kind: "directory", ...located, metadata: root.metadata };
  }

  /** The entry whose FILENAME header was just read; a file's content is open while it is out. */
  async *#child(filename: ItemHeader): AsyncGenerator<PxarEntry> {
    const directory = this.#stack.at(-1)!;
    const name = decodeFilename(await this.#content(filename), filename.offset);
    const pathBytes = childPath(directory.pathBytes, name);
    const located = { path: pathBytes.toString(), pathBytes, name, fileOffset: filename.offset };
    const record = (end: number, refSize: number | null = null) =>
      directory.children.push({ hash: hashFilename(name), start: filename.offset, end, refSize });
    const next = await this.#next("entry");
    if (next.htype === PXAR.hardlink) {
      const link = decodeHardlink(await this.#content(next), next.offset, filename.offset);
      yield { kind: "hardlink", ...located, ...link };
      record(this.#reader.position);
      return;
    }
    const body = await readEntryBody(this.#source, next);
    if (body.end.kind === "none") this.#pending = body.end.next;
    if (body.kind === "directory") {
      const hash = hashFilename(name);
      this.#stack.push({
        pathBytes,
        start: next.offset,
        fileOffset: filename.offset,
        hash,
        children: [],
      });
      yield { kind: "directory", ...located, metadata: body.metadata };
      return;
    }
    const window = await this.#openContent(body, located.path);
    yield entryOf(body, located, window);
    if (window !== null) await window.close(body.end.kind === "payload");
    const refSize = body.end.kind === "payload-ref" ? body.end.ref.size : null;
    record(this.#pending?.offset ?? this.#reader.position, refSize);
  }

  async #closeDirectory(header: ItemHeader): Promise<DirectoryEnd> {
    const directory = this.#stack.pop()!;
    checkGoodbye(header, await this.#content(header), directory.start, directory.children);
    this.#stack.at(-1)?.children.push({
      hash: directory.hash,
      start: directory.fileOffset,
      end: this.#reader.position,
      refSize: null,
    });
    const { pathBytes } = directory;
    return { kind: "directory-end", path: pathBytes.toString(), pathBytes };
  }

  async #openContent(body: EntryBody, path: string): Promise<ContentWindow | null> {
    const { end } = body;
    if (end.kind === "payload")
      return new ContentWindow(this.#reader, end.header.contentSize, path);
    if (end.kind !== "payload-ref") return null;
    if (this.#version !== 2) {
      throw malformed("bad-layout", "PAYLOAD_REF in a format 1 archive", end.header.offset);
    }
    if (this.#payload === null) return null;
    await this.#payload.open(end.ref, end.header.offset);
    return new ContentWindow(this.#payload.reader, end.ref.size, path);
  }

  async #next(what: string): Promise<ItemHeader> {
    const offset = this.#reader.position;
    return decodeHeader(await this.#reader.read(HEADER_SIZE, what), offset);
  }

  #content(header: ItemHeader): Promise<Buffer> {
    const what = itemTypeName(header.htype);
    if (header.contentSize > MAX_WHOLE_ITEM) {
      const message = `${what} of ${header.contentSize} bytes is too big to read`;
      throw malformed("oversize", message, header.offset);
    }
    return this.#reader.read(header.contentSize, what);
  }
}

function entryOf(body: EntryBody, located: Located, window: ContentWindow | null): PxarEntry {
  const { metadata, end } = body;
  switch (end.kind) {
    case "payload":
    case "payload-ref":
      return {
        kind: "file",
        ...located,
        metadata,
        size: end.kind === "payload" ? end.header.contentSize : end.ref.size,
        payloadRef: end.kind === "payload-ref" ? end.ref : null,
        content: window === null ? null : window.read(),
      };
    case "symlink":
      return { kind: "symlink", ...located, metadata, target: end.target };
    case "device":
      return {
        kind: body.kind as "block-device" | "char-device",
        ...located,
        metadata,
        device: end.device,
      };
    default:
      return { kind: body.kind as "fifo" | "socket", ...located, metadata };
  }
}
