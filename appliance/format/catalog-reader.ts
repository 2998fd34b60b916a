/**
 * Reads a `catalog.pcat1` (pxar-format.md §8) by random access: the root block is found through
 * the last 8 bytes, and each directory block through its parent's backwards distance, so a
 * listing reads only the blocks on its path.
 */
import {
  CATALOG_MAX_NAME_LENGTH,
  CATALOG_TYPE_BYTE,
  type CatalogEntry,
  type CatalogEntryKind,
} from "./catalog.js";
import { decodeSvarint, decodeVarint } from "./catalog-varint.js";
import { FormatError } from "./errors.js";
import { MAGIC } from "./magic.js";
import type { ReadAt } from "./pxar/range-reader.js";

const KIND_OF_BYTE = new Map<number, CatalogEntryKind>(
  Object.entries(CATALOG_TYPE_BYTE).map(([kind, byte]) => [byte, kind as CatalogEntryKind]),
);

const MAGIC_SIZE = 8;
const POINTER_SIZE = 8;
const MAX_VARINT_BYTES = 10;

export type CatalogDirectory = Extract<CatalogEntry, { kind: "directory" }>;

/** An entry with its absolute path ("/root.pxar.didx/etc/hosts"). */
export interface CatalogPathEntry {
  readonly path: string;
  readonly entry: CatalogEntry;
}

export class CatalogReader {
  readonly #readAt: ReadAt;
  readonly #size: number;
  readonly #root: CatalogDirectory;

  private constructor(readAt: ReadAt, size: number, rootBlock: number) {
    this.#readAt = readAt;
    this.#size = size;
    this.#root = { kind: "directory", name: Buffer.from("/"), blockOffset: rootBlock };
  }

  /** Checks the magic and finds the root block. */
  static async open(readAt: ReadAt, size: number): Promise<CatalogReader> {
    if (size < MAGIC_SIZE + 1 + POINTER_SIZE) {
      throw new FormatError("truncated", `catalog of ${size} bytes is too short`, { size });
    }
    const reader = new CatalogReader(readAt, size, 0);
    const magic = await reader.#bytes(0, MAGIC_SIZE);
    if (!MAGIC.catalog.equals(magic)) {
      throw new FormatError("bad-magic", "catalog does not start with the catalog magic", {
        offset: 0,
      });
    }
    const pointer = await reader.#bytes(size - POINTER_SIZE, POINTER_SIZE);
    const rootBlock = pointer.readBigUInt64LE(0);
    if (rootBlock < MAGIC_SIZE || rootBlock >= size - POINTER_SIZE) {
      throw layoutError(`root block offset ${rootBlock} lies outside the catalog`, size - 8);
    }
    return new CatalogReader(readAt, size, Number(rootBlock));
  }

  /** A catalog held whole in memory. */
  static fromBuffer(bytes: Uint8Array): Promise<CatalogReader> {
    return CatalogReader.open(
      async (offset, length) => bytes.subarray(offset, offset + length),
      bytes.length,
    );
  }

  /** The root directory, whose entries are the snapshot's archives. */
  get root(): CatalogDirectory {
    return this.#root;
  }

  /** The entries of a directory, in the order they were written. */
  async readDirectory(directory: CatalogDirectory): Promise<CatalogEntry[]> {
    const start = directory.blockOffset;
    const head = await this.#bytes(start, Math.min(MAX_VARINT_BYTES, this.#size - start));
    const length = decodeVarint(head, 0, start);
    if (length.value < 1) throw layoutError("empty directory block", start);
    const table = await this.#bytes(start + length.next, length.value);
    return parseTable(table, start, start + length.next);
  }

  /** The entry at an absolute path ("/" is the root; the first component names an archive). */
  async lookup(path: string | Uint8Array): Promise<CatalogEntry | null> {
    let current: CatalogEntry = this.#root;
    for (const name of components(path)) {
      if (current.kind !== "directory") return null;
      const entries = await this.readDirectory(current);
      const found = entries.find((entry) => entry.name.equals(name));
      if (found === undefined) return null;
      current = found;
    }
    return current;
  }

  /** The entries of the directory at `path`; a missing path or a non-directory is an error. */
  async list(path: string | Uint8Array): Promise<CatalogEntry[]> {
    const entry = await this.lookup(path);
    if (entry?.kind !== "directory") {
      throw new FormatError("invalid-argument", `catalog has no directory ${String(path)}`, {
        path: String(path),
      });
    }
    return this.readDirectory(entry);
  }

  /** Every entry below the root, depth first in written order (what `catalog dump` prints). */
  async *walk(
    directory: CatalogDirectory = this.#root,
    prefix = "",
  ): AsyncGenerator<CatalogPathEntry> {
    for (const entry of await this.readDirectory(directory)) {
      const path = `${prefix}/${entry.name.toString()}`;
      yield { path, entry };
      if (entry.kind === "directory") yield* this.walk(entry, path);
    }
  }

  async #bytes(offset: number, length: number): Promise<Buffer> {
    if (offset + length > this.#size) {
      throw new FormatError(
        "truncated",
        `catalog read of ${length} bytes at ${offset} passes its end`,
        { offset, length },
      );
    }
    const got = await this.#readAt(offset, length);
    if (got.length < length) {
      throw new FormatError(
        "truncated",
        `catalog read at ${offset} returned ${got.length} of ${length} bytes`,
        { offset, length },
      );
    }
    return Buffer.from(got.buffer, got.byteOffset, length);
  }
}

/** Decodes one table; `blockStart` anchors directory distances, `tableStart` error offsets. */
function parseTable(table: Buffer, blockStart: number, tableStart: number): CatalogEntry[] {
  const count = decodeVarint(table, 0, tableStart);
  const entries: CatalogEntry[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const kind = KIND_OF_BYTE.get(table[at] ?? -1);
    if (kind === undefined) {
      if (at >= table.length)
        throw new FormatError("truncated", `catalog block at ${blockStart} ends early`, {
          offset: tableStart + at,
        });
      throw layoutError(`unknown entry type 0x${table[at]!.toString(16)}`, tableStart + at);
    }
    const nameLength = decodeVarint(table, at + 1, tableStart);
    if (nameLength.value > CATALOG_MAX_NAME_LENGTH)
      throw layoutError(`name of ${nameLength.value} bytes`, tableStart + at);
    const nameEnd = nameLength.next + nameLength.value;
    if (nameEnd > table.length)
      throw new FormatError("truncated", `catalog name cut off`, { offset: tableStart + at });
    const name = Buffer.from(table.subarray(nameLength.next, nameEnd));
    at = nameEnd;
    if (kind === "directory") {
      const distance = decodeVarint(table, at, tableStart);
      const blockOffset = blockStart - distance.value;
      if (distance.value === 0 || blockOffset < MAGIC_SIZE) {
        throw layoutError(
          `directory distance ${distance.value} leaves the catalog`,
          tableStart + at,
        );
      }
      entries.push({ kind, name, blockOffset });
      at = distance.next;
    } else if (kind === "file") {
      const size = decodeVarint(table, at, tableStart);
      const mtime = decodeSvarint(table, size.next, tableStart);
      entries.push({ kind, name, size: size.value, mtime: mtime.value });
      at = mtime.next;
    } else {
      entries.push({ kind, name });
    }
  }
  if (at !== table.length)
    throw layoutError(`${table.length - at} bytes after the last entry`, tableStart + at);
  return entries;
}

function layoutError(problem: string, offset: number): FormatError {
  return new FormatError("bad-layout", `catalog: ${problem} at offset ${offset}`, { offset });
}

function components(path: string | Uint8Array): Buffer[] {
  const text = typeof path === "string" ? Buffer.from(path, "utf8") : Buffer.from(path);
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text[i] !== 0x2f) continue;
    if (i > from) parts.push(text.subarray(from, i));
    from = i + 1;
  }
  return parts;
}
