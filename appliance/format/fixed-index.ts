import { createHash } from "node:crypto";
import { FormatError } from "./errors.js";
import {
  type ChunkRange,
  checkDigest,
  checkEntryIndex,
  checkIndexIdentity,
  DIGEST_LENGTH,
  decodeIndexHeader,
  EntryStream,
  encodeIndexHeader,
  INDEX_CSUM_OFFSET,
  INDEX_HEADER_SIZE,
  type IndexChecksum,
  type IndexCloseResult,
  type IndexHeaderFields,
  type IndexIdentity,
  type IndexReader,
  isReadable,
  type PositionalWriter,
  readSafeInteger,
  toBuffer,
  WriterState,
  writeFully,
} from "./index-file.js";
import { MAGIC } from "./magic.js";

/**
 * The fixed index (.fidx, pbs-formats.md §3): one 32-byte digest per fixed-size chunk of an image,
 * `index_csum = SHA256(digest_0 ‖ digest_1 ‖ …)`, header `size` at 64 and `chunk_size` at 72.
 */

/** The chunk size PBS servers use for every fixed index (4 MiB). */
export const DEFAULT_FIXED_CHUNK_SIZE = 4 * 1024 * 1024;

const SIZE_OFFSET = 64;
const CHUNK_SIZE_OFFSET = 72;
const KIND = "fixed index";

export interface FixedIndexOptions extends IndexIdentity {
  /** Image size in bytes. */
  size: number;
  /** A power of two; defaults to 4 MiB. */
  chunkSize?: number;
}

/** How many chunks an image of `size` bytes has: ceil(size / chunkSize). */
export function fixedChunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/**
 * Streams a fixed index into a positional file: the header (zero checksum) goes first, digests
 * follow in 64 KiB batches, and close() stores the checksum at offset 32. The caller writes to a
 * temporary name and renames it into place after close() (PBS uses `<name>.tmp_fidx`); a writer
 * abandoned before close leaves a file without a valid checksum, which the caller must remove.
 *
 * Entries are appended in order; `set()` replaces one already appended, e.g. after
 * `prefillFrom()` copied a previous index (incremental backups, PBS's `reuse-csum`). Replacing an
 * entry that already reached the file makes close() re-read all entries to checksum them, so the
 * file must then also implement `read` (a FileHandle does).
 */
export class FixedIndexWriter {
  readonly size: number;
  readonly chunkSize: number;
  /** Entries the finished index must hold: ceil(size / chunkSize). */
  readonly chunkCount: number;
  readonly #file: PositionalWriter;
  readonly #entries: EntryStream;
  readonly #state = new WriterState();
  #rewritten = false;

  private constructor(file: PositionalWriter, size: number, chunkSize: number) {
    this.#file = file;
    this.size = size;
    this.chunkSize = chunkSize;
    this.chunkCount = fixedChunkCount(size, chunkSize);
    this.#entries = new EntryStream(file, DIGEST_LENGTH);
  }

  /** Validates the options and writes the header with a zero checksum. */
  static async create(
    file: PositionalWriter,
    options: FixedIndexOptions,
  ): Promise<FixedIndexWriter> {
    const chunkSize = options.chunkSize ?? DEFAULT_FIXED_CHUNK_SIZE;
    checkFixedGeometry(options.size, chunkSize);
    checkIndexIdentity(options);
    const header = encodeIndexHeader(MAGIC.fixedIndex, options);
    header.writeBigUInt64LE(BigInt(options.size), SIZE_OFFSET);
    header.writeBigUInt64LE(BigInt(chunkSize), CHUNK_SIZE_OFFSET);
    await writeFully(file, header, 0);
    return new FixedIndexWriter(file, options.size, chunkSize);
  }

  /** Entries appended so far. */
  get count(): number {
    return this.#entries.count;
  }

  /** Entry bytes held in memory until the next batch write (at most 64 KiB). */
  get bufferedBytes(): number {
    return this.#entries.bufferedBytes;
  }

  /** Appends the digest of the next chunk. */
  append(digest: Uint8Array): Promise<void> {
    return this.#state.run("append", () => {
      checkDigest(digest);
      if (this.#entries.count >= this.chunkCount) {
        throw new FormatError(
          "invalid-argument",
          `fixed index of ${this.size} bytes in ${this.chunkSize}-byte chunks is full at ${this.chunkCount} entries`,
          { size: this.size, chunkSize: this.chunkSize, chunkCount: this.chunkCount },
        );
      }
      return this.#entries.push(digest);
    });
  }

  /** Replaces the digest of chunk `index`, which must already have been appended or prefilled. */
  set(index: number, digest: Uint8Array): Promise<void> {
    return this.#state.run("set", () => {
      checkDigest(digest);
      checkEntryIndex(index, this.#entries.count, KIND);
      if (index < this.#entries.written) {
        // the entry is on file: the running checksum no longer describes it
        if (!isReadable(this.#file)) {
          throw new FormatError(
            "invalid-argument",
            "replacing a written entry needs a file that can be read back for the checksum",
            { index },
          );
        }
        this.#rewritten = true;
      }
      return this.#entries.overwrite(index, digest);
    });
  }

  /**
   * Copies every digest of `previous` (same size and chunk size) as the starting content of this
   * index, streamed through the same batches; then `set()` replaces the chunks that changed.
   */
  prefillFrom(previous: FixedIndexReader): Promise<void> {
    return this.#state.run("prefillFrom", () => {
      if (this.#entries.count !== 0) {
        throw new FormatError("invalid-argument", "prefill needs an empty fixed index writer", {
          count: this.#entries.count,
        });
      }
      if (previous.size !== this.size || previous.chunkSize !== this.chunkSize) {
        throw new FormatError(
          "invalid-argument",
          `cannot prefill from an index of ${previous.size} bytes in ${previous.chunkSize}-byte chunks ` +
            `into one of ${this.size} bytes in ${this.chunkSize}-byte chunks`,
          { previousSize: previous.size, size: this.size },
        );
      }
      return this.#copyFrom(previous);
    });
  }

  /**
   * Checks that every chunk has a digest, writes the final checksum at offset 32 and returns it
   * with the data size and the entry count. Renaming the file into place is the caller's job.
   */
  close(): Promise<IndexCloseResult> {
    return this.#state.run(
      "close",
      () => {
        if (this.#entries.count !== this.chunkCount) {
          throw new FormatError(
            "invalid-argument",
            `fixed index has ${this.#entries.count} of its ${this.chunkCount} entries ` +
              `(size ${this.size}, chunk size ${this.chunkSize})`,
            { count: this.#entries.count, chunkCount: this.chunkCount },
          );
        }
        return this.#finish();
      },
      true,
    );
  }

  async #copyFrom(previous: FixedIndexReader): Promise<void> {
    for (let i = 0; i < previous.count; i++) await this.#entries.push(previous.digestView(i));
  }

  async #finish(): Promise<IndexCloseResult> {
    await this.#entries.flush();
    const csum =
      this.#rewritten && isReadable(this.#file)
        ? await this.#entries.checksumFromFile(this.#file)
        : this.#entries.runningChecksum();
    await writeFully(this.#file, csum, INDEX_CSUM_OFFSET);
    return { csum, size: this.size, chunkCount: this.chunkCount };
  }
}

/** What a fixed index header says, plus the entry count it implies. */
export interface FixedIndexHeader extends IndexHeaderFields {
  size: number;
  chunkSize: number;
  count: number;
}

/**
 * A fixed index held whole in memory (32 bytes per chunk), validated on parse. It views the
 * bytes it was given: do not modify them while the reader is in use.
 */
export class FixedIndexReader implements IndexReader {
  readonly uuid: Buffer;
  readonly ctime: number;
  readonly csum: Buffer;
  readonly size: number;
  readonly chunkSize: number;
  readonly count: number;
  readonly #entries: Buffer;

  private constructor(fields: FixedIndexHeader, entries: Buffer) {
    this.uuid = fields.uuid;
    this.ctime = fields.ctime;
    this.csum = fields.csum;
    this.size = fields.size;
    this.chunkSize = fields.chunkSize;
    this.count = fields.count;
    this.#entries = entries;
  }

  /** Parses a whole .fidx file; rejects wrong magic, a bad chunk size and a wrong length. */
  static parse(bytes: Uint8Array): FixedIndexReader {
    const file = toBuffer(bytes);
    const header = decodeIndexHeader(file, MAGIC.fixedIndex, KIND);
    const size = readSafeInteger(file.readBigUInt64LE(SIZE_OFFSET), KIND, "size");
    const chunkSize = readChunkSize(file.readBigUInt64LE(CHUNK_SIZE_OFFSET));
    const count = fixedChunkCount(size, chunkSize);
    const expected = count * DIGEST_LENGTH;
    const actual = file.length - INDEX_HEADER_SIZE;
    if (actual !== expected) {
      throw new FormatError(
        actual < expected ? "truncated" : "bad-layout",
        `fixed index has ${actual} bytes of entries; size ${size} in ${chunkSize}-byte chunks needs ${expected}`,
        { size, chunkSize, entryBytes: actual, expectedEntryBytes: expected },
      );
    }
    return new FixedIndexReader(
      { ...header, size, chunkSize, count },
      file.subarray(INDEX_HEADER_SIZE),
    );
  }

  /** A copy of the digest of chunk `index`. */
  digest(index: number): Buffer {
    return Buffer.from(this.digestView(index));
  }

  /** The digest of chunk `index` as a view into the index bytes (no copy). */
  digestView(index: number): Buffer {
    checkEntryIndex(index, this.count, KIND);
    return this.#entries.subarray(index * DIGEST_LENGTH, (index + 1) * DIGEST_LENGTH);
  }

  /** Chunk `index` covers `[index·chunkSize, min((index+1)·chunkSize, size))`. */
  chunkRange(index: number): ChunkRange {
    checkEntryIndex(index, this.count, KIND);
    const start = index * this.chunkSize;
    return { start, end: Math.min(start + this.chunkSize, this.size) };
  }

  /** The chunk holding byte `byteOffset` of the image, or undefined outside it. */
  chunkIndexAt(byteOffset: number): number | undefined {
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset >= this.size) {
      return undefined;
    }
    return Math.floor(byteOffset / this.chunkSize);
  }

  /** Recomputes the checksum from the entries; `size` is the header's image size. */
  computeCsum(): IndexChecksum {
    return { csum: createHash("sha256").update(this.#entries).digest(), size: this.size };
  }

  /** Recomputes the checksum and throws checksum-mismatch unless it equals the stored one. */
  verify(): IndexChecksum {
    const computed = this.computeCsum();
    if (!computed.csum.equals(this.csum)) {
      throw new FormatError(
        "checksum-mismatch",
        "fixed index checksum does not match its entries",
        {
          stored: this.csum.toString("hex"),
          computed: computed.csum.toString("hex"),
        },
      );
    }
    return computed;
  }
}

function checkFixedGeometry(size: number, chunkSize: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new FormatError("invalid-argument", `fixed index size must be a byte count`, { size });
  }
  if (!Number.isSafeInteger(chunkSize) || !isPowerOfTwo(BigInt(chunkSize))) {
    throw new FormatError("invalid-argument", `fixed index chunk size must be a power of two`, {
      chunkSize,
    });
  }
}

function readChunkSize(value: bigint): number {
  if (!isPowerOfTwo(value)) {
    throw new FormatError("bad-layout", `fixed index chunk size ${value} is not a power of two`, {
      chunkSize: value.toString(),
    });
  }
  return readSafeInteger(value, KIND, "chunk size");
}

function isPowerOfTwo(value: bigint): boolean {
  return value > 0n && (value & (value - 1n)) === 0n;
}
