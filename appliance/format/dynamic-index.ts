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
  type PositionalWriter,
  readSafeInteger,
  toBuffer,
  WriterState,
  writeFully,
} from "./index-file.js";
import { MAGIC } from "./magic.js";

/**
 * The dynamic index (.didx, pbs-formats.md §3): entries of `le64(end) ‖ digest[32]`, where `end`
 * is the cumulative end offset of the chunk; `index_csum = SHA256(all entry bytes in order)`.
 */

/** One entry: the chunk's end offset (u64 LE) followed by its digest. */
export const DYNAMIC_ENTRY_SIZE = 8 + DIGEST_LENGTH;

const KIND = "dynamic index";

/**
 * Streams a dynamic index into a positional file: the header (zero checksum) goes first, entries
 * follow in 64 KiB batches, and close() stores the checksum at offset 32. The caller writes to a
 * temporary name and renames it into place after close() (PBS uses `<name>.tmp_didx`); a writer
 * abandoned before close leaves a file without a valid checksum, which the caller must remove.
 */
export class DynamicIndexWriter {
  readonly #file: PositionalWriter;
  readonly #entries: EntryStream;
  readonly #state = new WriterState();
  readonly #entry = Buffer.alloc(DYNAMIC_ENTRY_SIZE);
  #end = 0;

  private constructor(file: PositionalWriter) {
    this.#file = file;
    this.#entries = new EntryStream(file, DYNAMIC_ENTRY_SIZE);
  }

  /** Writes the header with a zero checksum. */
  static async create(
    file: PositionalWriter,
    options: IndexIdentity = {},
  ): Promise<DynamicIndexWriter> {
    checkIndexIdentity(options);
    await writeFully(file, encodeIndexHeader(MAGIC.dynamicIndex, options), 0);
    return new DynamicIndexWriter(file);
  }

  /** Entries appended so far. */
  get count(): number {
    return this.#entries.count;
  }

  /** Data size so far: the last end offset. */
  get size(): number {
    return this.#end;
  }

  /** Entry bytes held in memory until the next batch write (at most 64 KiB). */
  get bufferedBytes(): number {
    return this.#entries.bufferedBytes;
  }

  /** Appends the chunk `[previous end, endOffset)`; end offsets must strictly increase. */
  append(endOffset: number, digest: Uint8Array): Promise<void> {
    return this.#state.run("append", () => {
      checkDigest(digest);
      if (!Number.isSafeInteger(endOffset) || endOffset <= this.#end) {
        throw new FormatError(
          "invalid-argument",
          `dynamic index end offset ${endOffset} must be an integer above the previous end ${this.#end}`,
          { endOffset, previousEnd: this.#end },
        );
      }
      this.#entry.writeBigUInt64LE(BigInt(endOffset), 0);
      this.#entry.set(digest, 8);
      this.#end = endOffset;
      return this.#entries.push(this.#entry);
    });
  }

  /** Writes the final checksum at offset 32; size is the last end offset (0 when empty). */
  close(): Promise<IndexCloseResult> {
    return this.#state.run("close", () => this.#finish(), true);
  }

  async #finish(): Promise<IndexCloseResult> {
    await this.#entries.flush();
    const csum = this.#entries.runningChecksum();
    await writeFully(this.#file, csum, INDEX_CSUM_OFFSET);
    return { csum, size: this.#end, chunkCount: this.#entries.count };
  }
}

/**
 * A dynamic index held whole in memory (40 bytes per chunk), validated on parse. It views the
 * bytes it was given: do not modify them while the reader is in use.
 */
export class DynamicIndexReader implements IndexReader {
  readonly uuid: Buffer;
  readonly ctime: number;
  readonly csum: Buffer;
  readonly count: number;
  readonly #entries: Buffer;
  /** End offsets decoded once at parse, for O(1) ranges and binary search without BigInt. */
  readonly #ends: Float64Array;

  private constructor(header: IndexHeaderFields, entries: Buffer, ends: Float64Array) {
    this.uuid = header.uuid;
    this.ctime = header.ctime;
    this.csum = header.csum;
    this.count = ends.length;
    this.#entries = entries;
    this.#ends = ends;
  }

  /** Parses a whole .didx file; rejects wrong magic, a partial entry and non-increasing ends. */
  static parse(bytes: Uint8Array): DynamicIndexReader {
    const file = toBuffer(bytes);
    const header = decodeIndexHeader(file, MAGIC.dynamicIndex, KIND);
    const entryBytes = file.length - INDEX_HEADER_SIZE;
    if (entryBytes % DYNAMIC_ENTRY_SIZE !== 0) {
      throw new FormatError(
        "truncated",
        `dynamic index has ${entryBytes} bytes of entries, not a multiple of ${DYNAMIC_ENTRY_SIZE}`,
        { entryBytes },
      );
    }
    const entries = file.subarray(INDEX_HEADER_SIZE);
    return new DynamicIndexReader(header, entries, decodeEnds(entries));
  }

  /** Data size: the last end offset, 0 for an empty index. */
  get size(): number {
    return this.count === 0 ? 0 : this.#ends[this.count - 1]!;
  }

  /** A copy of the digest of chunk `index`. */
  digest(index: number): Buffer {
    checkEntryIndex(index, this.count, KIND);
    const at = index * DYNAMIC_ENTRY_SIZE + 8;
    return Buffer.from(this.#entries.subarray(at, at + DIGEST_LENGTH));
  }

  /** Chunk `index` covers `[end of the previous chunk (0 for the first), its own end)`. */
  chunkRange(index: number): ChunkRange {
    checkEntryIndex(index, this.count, KIND);
    return { start: index === 0 ? 0 : this.#ends[index - 1]!, end: this.#ends[index]! };
  }

  /** The chunk holding byte `byteOffset` of the archive (binary search), or undefined outside it. */
  chunkIndexAt(byteOffset: number): number | undefined {
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset >= this.size) {
      return undefined;
    }
    // the first chunk whose end lies beyond the offset
    let low = 0;
    let high = this.count - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#ends[middle]! > byteOffset) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** Recomputes the checksum from the entries; `size` is the last end offset. */
  computeCsum(): IndexChecksum {
    return { csum: createHash("sha256").update(this.#entries).digest(), size: this.size };
  }

  /** Recomputes the checksum and throws checksum-mismatch unless it equals the stored one. */
  verify(): IndexChecksum {
    const computed = this.computeCsum();
    if (!computed.csum.equals(this.csum)) {
      throw new FormatError(
        "checksum-mismatch",
        "dynamic index checksum does not match its entries",
        { stored: this.csum.toString("hex"), computed: computed.csum.toString("hex") },
      );
    }
    return computed;
  }
}

function decodeEnds(entries: Buffer): Float64Array {
  const ends = new Float64Array(entries.length / DYNAMIC_ENTRY_SIZE);
  let previous = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = readSafeInteger(entries.readBigUInt64LE(i * DYNAMIC_ENTRY_SIZE), KIND, `end ${i}`);
    if (end <= previous) {
      throw new FormatError(
        "bad-layout",
        `dynamic index end offset ${i} is ${end}, not above the previous end ${previous}`,
        { index: i, end, previousEnd: previous },
      );
    }
    ends[i] = end;
    previous = end;
  }
  return ends;
}
