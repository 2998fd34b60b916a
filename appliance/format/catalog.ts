/**
 * The file catalog `catalog.pcat1` (pxar-format.md §8): the directory tree of a snapshot's pxar
 * archives for browsing. After the magic come one block per directory, each written when the
 * directory ends (children before parents), then the root block and its offset as the last
 * 8 bytes. The root lists one directory per archive, named with the archive's file name.
 */
import { encodeSvarint, encodeVarint } from "./catalog-varint.js";
import { FormatError } from "./errors.js";
import { MAGIC } from "./magic.js";
import { type ByteSink, SinkWriter } from "./pxar/sink.js";

export type CatalogEntryKind =
  | "directory"
  | "file"
  | "symlink"
  | "hardlink"
  | "block-device"
  | "char-device"
  | "fifo"
  | "socket";

/** One line of a directory block. */
export type CatalogEntry =
  /** `blockOffset`: where the directory's own block starts in the catalog. */
  | { readonly kind: "directory"; readonly name: Buffer; readonly blockOffset: number }
  /** `mtime`: whole seconds (`st_mtime`), possibly negative. */
  | { readonly kind: "file"; readonly name: Buffer; readonly size: number; readonly mtime: number }
  | { readonly kind: Exclude<CatalogEntryKind, "directory" | "file">; readonly name: Buffer };

/** The ASCII type byte of each kind. */
export const CATALOG_TYPE_BYTE: Record<CatalogEntryKind, number> = {
  directory: 0x64, // d
  file: 0x66, // f
  symlink: 0x6c, // l
  hardlink: 0x68, // h
  "block-device": 0x62, // b
  "char-device": 0x63, // c
  fifo: 0x70, // p
  socket: 0x73, // s
};

/** PBS's reader refuses names of this length or more. */
export const CATALOG_MAX_NAME_LENGTH = 4095;

/** Entries without extra fields, as `add` takes them. */
export type PlainCatalogKind = Exclude<CatalogEntryKind, "directory" | "file">;

/** An entry waiting for its directory's block: directories still need the block's offset. */
type PendingEntry = Buffer | { readonly head: Buffer; readonly childBlock: number };

/**
 * Writes a catalog while archives are encoded, fed in the same order as the pxar encoder:
 * `startDirectory` for each archive (at the root) and each subdirectory, entries, `endDirectory`.
 * Each open directory's entries are held until it ends; nothing else is buffered.
 */
export class CatalogWriter {
  readonly #out: SinkWriter;
  readonly #stack: { name: Buffer; entries: PendingEntry[] }[] = [
    { name: Buffer.from("/"), entries: [] },
  ];
  #finished = false;

  private constructor(sink: ByteSink) {
    this.#out = new SinkWriter(sink);
  }

  /** Starts a catalog with its magic number. */
  static async create(sink: ByteSink): Promise<CatalogWriter> {
    const writer = new CatalogWriter(sink);
    await writer.#out.write(MAGIC.catalog);
    return writer;
  }

  /** Directories open, the root counting as 1. */
  get depth(): number {
    return this.#stack.length;
  }

  /** Opens a directory (at the root: an archive, e.g. `root.pxar.didx`). */
  startDirectory(name: string | Uint8Array): void {
    this.#current();
    this.#stack.push({ name: checkName(name), entries: [] });
  }

  /** Writes the current directory's block and lists it in its parent. */
  async endDirectory(): Promise<void> {
    if (this.#stack.length < 2) throw misuse("endDirectory without an open directory");
    const directory = this.#stack.pop()!;
    const childBlock = this.#out.position;
    await this.#out.write(encodeBlock(directory.entries, childBlock));
    this.#current().entries.push({ head: entryHead("directory", directory.name), childBlock });
  }

  /** A regular file with its size and mtime in seconds. */
  addFile(name: string | Uint8Array, size: number, mtime: number): void {
    this.#current().entries.push(
      Buffer.concat([entryHead("file", checkName(name)), encodeVarint(size), encodeSvarint(mtime)]),
    );
  }

  /** An entry that carries only its name: symlink, hard link, device, fifo or socket. */
  add(name: string | Uint8Array, kind: PlainCatalogKind): void {
    if (
      kind === ("directory" as string) ||
      kind === ("file" as string) ||
      !(kind in CATALOG_TYPE_BYTE)
    ) {
      throw misuse(`add cannot store a ${kind}`);
    }
    this.#current().entries.push(entryHead(kind, checkName(name)));
  }

  /** Writes the root block and the pointer to it; returns the catalog's size. */
  async finish(): Promise<number> {
    if (this.#stack.length !== 1) {
      throw misuse(`finish with ${this.#stack.length - 1} directories open`);
    }
    const root = this.#current();
    const rootBlock = this.#out.position;
    await this.#out.write(encodeBlock(root.entries, rootBlock));
    const pointer = Buffer.alloc(8);
    pointer.writeBigUInt64LE(BigInt(rootBlock));
    await this.#out.write(pointer);
    await this.#out.flush();
    this.#finished = true;
    return this.#out.position;
  }

  #current() {
    const directory = this.#stack.at(-1);
    if (directory === undefined || this.#finished) throw misuse("the catalog is finished");
    return directory;
  }
}

/**
 * `varint(table length)` + table, the table being `varint(count)` + entries; a directory entry
 * ends with the distance back from this block's start to the child's block.
 */
function encodeBlock(entries: readonly PendingEntry[], blockStart: number): Buffer {
  const parts = entries.map((entry) =>
    Buffer.isBuffer(entry)
      ? entry
      : Buffer.concat([entry.head, encodeVarint(blockStart - entry.childBlock)]),
  );
  const table = Buffer.concat([encodeVarint(entries.length), ...parts]);
  return Buffer.concat([encodeVarint(table.length), table]);
}

function entryHead(kind: CatalogEntryKind, name: Buffer): Buffer {
  return Buffer.concat([Buffer.of(CATALOG_TYPE_BYTE[kind]), encodeVarint(name.length), name]);
}

function checkName(name: string | Uint8Array): Buffer {
  const bytes = typeof name === "string" ? Buffer.from(name, "utf8") : Buffer.from(name);
  if (bytes.length === 0 || bytes.length > CATALOG_MAX_NAME_LENGTH) {
    throw misuse(`catalog name of ${bytes.length} bytes must be 1…${CATALOG_MAX_NAME_LENGTH}`);
  }
  // lookups split paths at '/', and PBS hands names over as C strings
  if (bytes.includes(0x2f) || bytes.includes(0)) throw misuse("catalog name contains '/' or NUL");
  return bytes;
}

function misuse(message: string): FormatError {
  return new FormatError("invalid-argument", `catalog: ${message}`);
}
