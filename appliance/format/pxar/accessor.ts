/**
 * Random access to a pxar archive by path (pxar-format.md §5.1): each directory is opened from
 * its end through the goodbye table, a name is found by hash in the table's search tree, and only
 * that child's entry is decoded. Over a dynamic index this fetches just the chunks on the path.
 */
import {
  FORMAT_VERSION_SIZE,
  GOODBYE_ITEM_SIZE,
  HEADER_SIZE,
  hashFilename,
  itemTypeName,
  PXAR,
} from "./constants.js";
import { childPath, ROOT_PATH } from "./entries.js";
import { decodeEntryAt, type LocatedEntry } from "./entry-at.js";
import { readEntryBody } from "./entry-body.js";
import { malformed, misuse } from "./errors.js";
import { decodeGoodbyeRecords, findHash, type GoodbyeRecord } from "./goodbye.js";
import { expectGoodbyeSize } from "./header.js";
import { decodeFilename, readU64 } from "./items.js";
import { RangeReader, type ReadAt } from "./range-reader.js";

export type { EntryRange, LocatedEntry } from "./entry-at.js";

export interface PxarAccessorOptions {
  /** The `.ppxar` of a split archive; without it files there have `content: null`. */
  readonly payload?: { readonly readAt: ReadAt; readonly size: number };
}

/** A directory's goodbye table, opened from the directory's end offset. */
interface Directory {
  readonly goodbyeStart: number;
  readonly start: number;
  readonly records: readonly GoodbyeRecord[];
}

/** Tables kept for repeated lookups in the same directories (a browsing session). */
const CACHED_TABLES = 256;

export class PxarAccessor {
  readonly #archive: RangeReader;
  readonly #payload: RangeReader | null;
  readonly #tables = new Map<number, Directory>();
  readonly #root: LocatedEntry;
  readonly version: 1 | 2;

  private constructor(
    archive: RangeReader,
    payload: RangeReader | null,
    version: 1 | 2,
    root: LocatedEntry,
  ) {
    this.#archive = archive;
    this.#payload = payload;
    this.version = version;
    this.#root = root;
  }

  /** Opens the archive of `size` bytes and decodes its root entry. */
  static async open(
    readAt: ReadAt,
    size: number,
    options: PxarAccessorOptions = {},
  ): Promise<PxarAccessor> {
    const archive = new RangeReader(readAt, size, "archive");
    const version = await readVersion(archive);
    const payload =
      options.payload === undefined
        ? null
        : new RangeReader(options.payload.readAt, options.payload.size, "payload stream");
    return new PxarAccessor(archive, payload, version, await readRoot(archive));
  }

  /** The root directory. */
  root(): LocatedEntry {
    return this.#root;
  }

  /** The entry at `path` ("/a/b" or "a/b"; "/" is the root), or null when there is none. */
  async lookup(path: string | Uint8Array): Promise<LocatedEntry | null> {
    let current = this.#root;
    for (const component of splitPath(path)) {
      if (current.kind !== "directory") return null;
      const found = await this.#lookupIn(current, component);
      if (found === null) return null;
      current = found;
    }
    return current;
  }

  /** A directory's children in archive order. */
  async list(directory: LocatedEntry): Promise<LocatedEntry[]> {
    const dir = await this.#directory(directory);
    const starts = dir.records.map((record, i) => ({ record, start: childStart(dir, i) }));
    starts.sort((a, b) => a.start - b.start);
    const out: LocatedEntry[] = [];
    for (const { record, start } of starts) {
      out.push(await this.#child(directory, dir, record, start, await this.#filename(start)));
    }
    return out;
  }

  /** The regular file a hard link names. */
  async followHardlink(link: LocatedEntry): Promise<LocatedEntry> {
    if (link.kind !== "hardlink") throw misuse("followHardlink needs a hard link");
    const start = link.targetOffset;
    const name = await this.#filename(start);
    const range = { start, end: this.#archive.size };
    const path = Buffer.concat([ROOT_PATH, link.target]);
    const target = await decodeEntryAt(this.#archive, this.#payload, range, name, path);
    if (target.kind !== "file") {
      throw malformed("bad-layout", `hard link ${link.path} points at a ${target.kind}`, start);
    }
    return target;
  }

  async #lookupIn(directory: LocatedEntry, name: Buffer): Promise<LocatedEntry | null> {
    const dir = await this.#directory(directory);
    // equal hashes may belong to other names: the stored name decides
    for (const i of findHash(dir.records, hashFilename(name))) {
      const start = childStart(dir, i);
      const stored = await this.#filename(start);
      if (stored.equals(name)) return this.#child(directory, dir, dir.records[i]!, start, stored);
    }
    return null;
  }

  #child(
    parent: LocatedEntry,
    dir: Directory,
    record: GoodbyeRecord,
    start: number,
    name: Buffer,
  ): Promise<LocatedEntry> {
    // a split archive's record may overshoot by the file size (pxar 1.0.0): stay in the directory
    const range = { start, end: Math.min(start + record.size, dir.goodbyeStart) };
    const path = childPath(parent.pathBytes, name);
    return decodeEntryAt(this.#archive, this.#payload, range, name, path);
  }

  /** The goodbye table that ends at `directory.range.end`. */
  async #directory(directory: LocatedEntry): Promise<Directory> {
    if (directory.kind !== "directory") throw misuse(`${directory.path} is not a directory`);
    const end = directory.range.end;
    const cached = this.#tables.get(end);
    if (cached !== undefined) return cached;
    const dir = await readDirectory(this.#archive, end);
    if (this.#tables.size >= CACHED_TABLES) this.#tables.delete(this.#tables.keys().next().value!);
    this.#tables.set(end, dir);
    return dir;
  }

  async #filename(start: number): Promise<Buffer> {
    const header = await this.#archive.header(start, "FILENAME");
    if (header.htype !== PXAR.filename) {
      const found = itemTypeName(header.htype);
      throw malformed("bad-layout", `expected FILENAME, found ${found}`, start);
    }
    const content = await this.#archive.bytes(start + HEADER_SIZE, header.contentSize, "FILENAME");
    return Buffer.from(decodeFilename(content, start));
  }
}

async function readVersion(archive: RangeReader): Promise<1 | 2> {
  const first = await archive.header(0, "archive start");
  if (first.htype !== PXAR.formatVersion) return 1;
  const content = await archive.bytes(HEADER_SIZE, FORMAT_VERSION_SIZE, "format version");
  const version = readU64(content, 0, "format version", 0);
  if (version !== 1 && version !== 2) {
    throw malformed("bad-layout", `unknown format version ${version}`, 0);
  }
  return version;
}

/** The root entry, after FORMAT_VERSION and PRELUDE if present; its range is the archive. */
async function readRoot(archive: RangeReader): Promise<LocatedEntry> {
  const source = archive.items(0, archive.size);
  let header = (await source.nextHeader("archive start"))!;
  for (const skipped of [PXAR.formatVersion, PXAR.prelude]) {
    if (header.htype === skipped) {
      await source.content(header);
      header = (await source.nextHeader("root entry"))!;
    }
  }
  const body = await readEntryBody(source, header);
  if (body.kind !== "directory") {
    throw malformed("bad-layout", `the root is a ${body.kind}`, header.offset);
  }
  const located = { path: "/", pathBytes: ROOT_PATH, name: Buffer.alloc(0), fileOffset: null };
  const range = { start: 0, end: archive.size };
  return { kind: "directory", ...located, metadata: body.metadata, range };
}

/** Opens a goodbye table from the directory's end: tail, then header, then the records. */
async function readDirectory(archive: RangeReader, end: number): Promise<Directory> {
  const tailAt = end - GOODBYE_ITEM_SIZE;
  const tailBytes = await archive.bytes(tailAt, GOODBYE_ITEM_SIZE, "goodbye tail");
  const tail = decodeGoodbyeRecords(tailBytes, 1)[0]!;
  if (tail.hash !== PXAR.goodbyeTailMarker || tail.size > end || tail.offset > end - tail.size) {
    throw malformed("bad-layout", `no goodbye tail before ${end}`, tailAt);
  }
  const goodbyeStart = end - tail.size;
  const header = await archive.header(goodbyeStart, "GOODBYE");
  if (header.htype !== PXAR.goodbye || header.contentSize + HEADER_SIZE !== tail.size) {
    const found = itemTypeName(header.htype);
    throw malformed("bad-layout", `goodbye tail points at ${found}`, goodbyeStart);
  }
  expectGoodbyeSize(header);
  const count = header.contentSize / GOODBYE_ITEM_SIZE - 1;
  const table = await archive.bytes(
    goodbyeStart + HEADER_SIZE,
    count * GOODBYE_ITEM_SIZE,
    "goodbye table",
  );
  const records = decodeGoodbyeRecords(table, count);
  return { goodbyeStart, start: goodbyeStart - tail.offset, records };
}

/** The FILENAME offset record `i` points at, which must lie inside the directory. */
function childStart(dir: Directory, i: number): number {
  const start = dir.goodbyeStart - dir.records[i]!.offset;
  if (!(start >= dir.start && start < dir.goodbyeStart)) {
    const at = dir.goodbyeStart + HEADER_SIZE + i * GOODBYE_ITEM_SIZE;
    throw malformed("bad-layout", `goodbye record ${i} points outside its directory`, at);
  }
  return start;
}

/** Path components as raw bytes; "." and empty components are skipped, ".." is refused. */
function splitPath(path: string | Uint8Array): Buffer[] {
  const bytes = typeof path === "string" ? Buffer.from(path, "utf8") : Buffer.from(path);
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x2f) continue;
    const part = bytes.subarray(from, i);
    from = i + 1;
    if (part.length === 0 || part.equals(DOT)) continue;
    if (part.equals(DOT_DOT)) throw misuse("'..' is not allowed in an archive path");
    parts.push(part);
  }
  return parts;
}

const DOT = Buffer.from(".");
const DOT_DOT = Buffer.from("..");
