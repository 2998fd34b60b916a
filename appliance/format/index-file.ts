import { createHash, randomBytes } from "node:crypto";
import { CairnError } from "../errors.js";
import { FormatError } from "./errors.js";

/**
 * Pieces shared by the fixed (.fidx) and dynamic (.didx) index formats (pbs-formats.md §3): the
 * 4096-byte header's common fields, the positional file the writers stream into, and the batching
 * that keeps a writer's memory bounded whatever the index length.
 */

/** Both index kinds open with one page of header; entries start right after it. */
export const INDEX_HEADER_SIZE = 4096;
/** Where the index checksum sits in the header; writers fill it in last. */
export const INDEX_CSUM_OFFSET = 32;
export const DIGEST_LENGTH = 32;
export const UUID_LENGTH = 16;
/** Bytes of entries a writer holds before handing them to the file. */
export const ENTRY_BATCH_BYTES = 64 * 1024;

const UUID_OFFSET = 8;
const CTIME_OFFSET = 24;

/**
 * Where a writer puts bytes. Node's `fs/promises` FileHandle satisfies this as is; a short write is
 * continued, a write that makes no progress is an error.
 */
export interface PositionalWriter {
  write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }>;
}

/** The read counterpart, needed only to re-checksum entries overwritten in place. */
export interface PositionalReader {
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
}

/** What an index checksum covers and the data size it describes, as a manifest records them. */
export interface IndexChecksum {
  csum: Buffer;
  size: number;
}

/** What closing a writer reports: the checksum now stored in the header, and the entry count. */
export interface IndexCloseResult extends IndexChecksum {
  chunkCount: number;
}

/** The byte range of the image or archive one chunk covers: `[start, end)`. */
export interface ChunkRange {
  start: number;
  end: number;
}

/** What both index readers offer, so GC, verify and restore can treat the kinds alike. */
export interface IndexReader {
  readonly uuid: Buffer;
  readonly ctime: number;
  /** The checksum stored in the header; trust `computeCsum()` instead for anything downloaded. */
  readonly csum: Buffer;
  readonly size: number;
  readonly count: number;
  digest(index: number): Buffer;
  chunkRange(index: number): ChunkRange;
  chunkIndexAt(byteOffset: number): number | undefined;
  computeCsum(): IndexChecksum;
  verify(): IndexChecksum;
}

/** Identity a writer stamps into the header; both default to fresh values. */
export interface IndexIdentity {
  uuid?: Uint8Array;
  ctime?: number;
}

/** The header fields common to both kinds, as read back. */
export interface IndexHeaderFields {
  uuid: Buffer;
  ctime: number;
  csum: Buffer;
}

export type IndexKind = "fixed index" | "dynamic index";

/** A header page with magic, uuid and ctime set and a zero checksum, ready for kind-specific fields. */
export function encodeIndexHeader(magic: Buffer, identity: IndexIdentity): Buffer {
  const header = Buffer.alloc(INDEX_HEADER_SIZE);
  magic.copy(header, 0);
  Buffer.from(identity.uuid ?? newIndexUuid()).copy(header, UUID_OFFSET);
  header.writeBigInt64LE(BigInt(identity.ctime ?? Math.floor(Date.now() / 1000)), CTIME_OFFSET);
  return header;
}

/** Refuses identity values that would not fit the header. */
export function checkIndexIdentity(identity: IndexIdentity): void {
  if (identity.uuid !== undefined && identity.uuid.length !== UUID_LENGTH) {
    throw new FormatError("invalid-argument", `index uuid must be 16 bytes`, {
      length: identity.uuid.length,
    });
  }
  if (identity.ctime !== undefined && !Number.isSafeInteger(identity.ctime)) {
    throw new FormatError("invalid-argument", `index ctime must be whole epoch seconds`, {
      ctime: identity.ctime,
    });
  }
}

/** Random version-4 UUID bytes, as PBS stamps into new indexes. */
export function newIndexUuid(): Buffer {
  const uuid = randomBytes(UUID_LENGTH);
  uuid[6] = (uuid[6]! & 0x0f) | 0x40;
  uuid[8] = (uuid[8]! & 0x3f) | 0x80;
  return uuid;
}

/** Checks length and magic, then reads uuid, ctime and stored checksum (copies, not views). */
export function decodeIndexHeader(
  bytes: Uint8Array,
  magic: Buffer,
  kind: IndexKind,
): IndexHeaderFields {
  const file = toBuffer(bytes);
  if (file.length < magic.length) {
    throw new FormatError("truncated", `${kind} is ${file.length} bytes, too short for a magic`, {
      length: file.length,
    });
  }
  if (!file.subarray(0, magic.length).equals(magic)) {
    throw new FormatError("bad-magic", `not a ${kind}: wrong magic`, {
      magic: file.subarray(0, magic.length).toString("hex"),
    });
  }
  if (file.length < INDEX_HEADER_SIZE) {
    throw new FormatError(
      "truncated",
      `${kind} is ${file.length} bytes, shorter than its ${INDEX_HEADER_SIZE}-byte header`,
      { length: file.length },
    );
  }
  return {
    uuid: Buffer.from(file.subarray(UUID_OFFSET, UUID_OFFSET + UUID_LENGTH)),
    ctime: readSafeInteger(file.readBigInt64LE(CTIME_OFFSET), kind, "ctime"),
    csum: Buffer.from(file.subarray(INDEX_CSUM_OFFSET, INDEX_CSUM_OFFSET + DIGEST_LENGTH)),
  };
}

/** A u64/i64 field as a JS number, refusing values beyond 2^53 that would silently round. */
export function readSafeInteger(value: bigint, kind: IndexKind, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new FormatError("bad-layout", `${kind} ${field} ${value} is beyond 2^53`, {
      field,
      value: value.toString(),
    });
  }
  return Number(value);
}

/** A Buffer view of any Uint8Array without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function checkDigest(digest: Uint8Array): void {
  if (digest.length !== DIGEST_LENGTH) {
    throw new FormatError("invalid-argument", `chunk digest must be 32 bytes`, {
      length: digest.length,
    });
  }
}

/** Throws unless `index` addresses one of `count` entries. */
export function checkEntryIndex(index: number, count: number, kind: IndexKind): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new FormatError("invalid-argument", `${kind} has no entry ${index} (it has ${count})`, {
      index,
      count,
    });
  }
}

/** Writes all of `bytes` at `position`, continuing short writes. */
export async function writeFully(
  file: PositionalWriter,
  bytes: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    if (!(bytesWritten > 0)) {
      throw new CairnError("CAIRN_E_IO_SHORT_WRITE", "index write made no progress", 500, {
        position: position + done,
        remaining: bytes.length - done,
      });
    }
    done += bytesWritten;
  }
}

/** Fills `buffer` from `position`; a file that ends early is truncated. */
export async function readFully(
  file: PositionalReader,
  buffer: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await file.read(buffer, done, buffer.length - done, position + done);
    if (!(bytesRead > 0)) {
      throw new FormatError("truncated", "index file ended while reading entries back", {
        position: position + done,
        missing: buffer.length - done,
      });
    }
    done += bytesRead;
  }
}

/** Whether a writable file can also be read, which re-checksumming needs. */
export function isReadable(file: PositionalWriter): file is PositionalWriter & PositionalReader {
  return typeof (file as Partial<PositionalReader>).read === "function";
}

/**
 * Appends fixed-size entries after the header through one reusable batch buffer, hashing each
 * batch as it leaves so the checksum never needs the whole index in memory.
 */
export class EntryStream {
  readonly #file: PositionalWriter;
  readonly #entrySize: number;
  readonly #batch: Buffer;
  readonly #hash = createHash("sha256");
  #pending = 0;
  #flushedEntries = 0;

  constructor(file: PositionalWriter, entrySize: number) {
    this.#file = file;
    this.#entrySize = entrySize;
    // a whole number of entries per batch, so no entry straddles two writes
    this.#batch = Buffer.alloc(Math.floor(ENTRY_BATCH_BYTES / entrySize) * entrySize);
  }

  /** Entries appended so far, written or still batched. */
  get count(): number {
    return this.#flushedEntries + this.#pending / this.#entrySize;
  }

  /** Entries already handed to the file. */
  get written(): number {
    return this.#flushedEntries;
  }

  /** Entry bytes held in memory, waiting for the next write. */
  get bufferedBytes(): number {
    return this.#pending;
  }

  async push(entry: Uint8Array): Promise<void> {
    this.#batch.set(entry, this.#pending);
    this.#pending += this.#entrySize;
    if (this.#pending === this.#batch.length) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#pending === 0) return;
    const batch = this.#batch.subarray(0, this.#pending);
    this.#hash.update(batch);
    await writeFully(this.#file, batch, this.#entryPosition(this.#flushedEntries));
    this.#flushedEntries += this.#pending / this.#entrySize;
    this.#pending = 0;
  }

  /**
   * Replaces entry `index` in place: in the batch while it is still there (the running checksum
   * then covers the new value), on file otherwise (then only `checksumFromFile` is right).
   */
  async overwrite(index: number, entry: Uint8Array): Promise<void> {
    if (index >= this.#flushedEntries) {
      this.#batch.set(entry, (index - this.#flushedEntries) * this.#entrySize);
      return;
    }
    await writeFully(this.#file, entry, this.#entryPosition(index));
  }

  /** The checksum of every entry appended, in order; call after the last flush. */
  runningChecksum(): Buffer {
    return this.#hash.digest();
  }

  /** Re-reads every entry from the file through the batch buffer and hashes them in order. */
  async checksumFromFile(file: PositionalReader): Promise<Buffer> {
    await this.flush();
    const hash = createHash("sha256");
    const total = this.#flushedEntries * this.#entrySize;
    for (let done = 0; done < total; done += this.#batch.length) {
      const part = this.#batch.subarray(0, Math.min(this.#batch.length, total - done));
      await readFully(file, part, INDEX_HEADER_SIZE + done);
      hash.update(part);
    }
    return hash.digest();
  }

  #entryPosition(index: number): number {
    return INDEX_HEADER_SIZE + index * this.#entrySize;
  }
}

/**
 * Lets one writer operation run at a time. An operation refused before it started leaves the
 * writer as it was; one that fails midway leaves it unusable, since the file state is unknown.
 */
export class WriterState {
  #state: "open" | "busy" | "closed" | "failed" = "open";

  /** `start` validates synchronously, then returns the promise doing the work. */
  async run<T>(what: string, start: () => Promise<T>, closes = false): Promise<T> {
    if (this.#state !== "open") {
      throw new FormatError("invalid-argument", `${what}: index writer is ${this.#describe()}`, {
        state: this.#state,
      });
    }
    const work = start();
    this.#state = "busy";
    try {
      const result = await work;
      this.#state = closes ? "closed" : "open";
      return result;
    } catch (err) {
      this.#state = "failed";
      throw err;
    }
  }

  #describe(): string {
    switch (this.#state) {
      case "busy":
        return "still busy with the previous call (await each call)";
      case "closed":
        return "already closed";
      default:
        return "unusable after a failed write";
    }
  }
}

/**
 * A growable in-memory file implementing both positional interfaces: for building an index
 * without touching disk, and for tests.
 */
export class MemoryPositionalFile implements PositionalWriter, PositionalReader {
  #data = Buffer.alloc(0);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** A copy of the file's content. */
  bytes(): Buffer {
    return Buffer.from(this.#data.subarray(0, this.#length));
  }

  async write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }> {
    const end = position + length;
    if (end > this.#data.length) {
      const grown = Buffer.alloc(Math.max(end, this.#data.length * 2));
      this.#data.copy(grown, 0, 0, this.#length);
      this.#data = grown;
    }
    this.#data.set(buffer.subarray(offset, offset + length), position);
    this.#length = Math.max(this.#length, end);
    return { bytesWritten: length };
  }

  async read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }> {
    const available = Math.max(0, Math.min(length, this.#length - position));
    buffer.set(this.#data.subarray(position, position + available), offset);
    return { bytesRead: available };
  }
}
