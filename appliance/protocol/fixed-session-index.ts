import type { SnapshotIndexFile } from "../datastore/snapshot-index-file.js";
import type { FixedIndexWriter } from "../format/fixed-index.js";
import type { IndexCloseResult } from "../format/index-file.js";
import { ProtocolError } from "./errors.js";
import { SerialQueue } from "./serial-queue.js";
import {
  type AppendEntry,
  asCloseMismatch,
  type CloseRequest,
  closeMismatch,
  type SessionIndex,
  writerLabel,
} from "./session-index.js";

/** Holds a slot appended ahead of its turn until the client fills it. */
const PLACEHOLDER = Buffer.alloc(32);

/**
 * Where a chunk of `length` bytes ending at `end` sits in a fixed index of `size` bytes in
 * `chunkSize` chunks, or why it cannot (PBS's alignment rule: only the last chunk may be short).
 */
export function fixedChunkPosition(
  end: number,
  length: number,
  size: number,
  chunkSize: number,
): { index: number } | { problem: string } {
  if (length < 1 || length > chunkSize) {
    return { problem: `chunk of ${length} bytes, the chunk size is ${chunkSize}` };
  }
  if (end > size) return { problem: `chunk ends at ${end}, beyond the image size ${size}` };
  const start = end - length;
  if (start % chunkSize !== 0) {
    return { problem: `chunk starts at ${start}, not a multiple of the chunk size ${chunkSize}` };
  }
  if (end !== size && length !== chunkSize) {
    return { problem: `chunk of ${length} bytes at ${start} is short but not the last one` };
  }
  return { index: start / chunkSize };
}

/**
 * A fixed index (`.fidx`) being written in a backup session. Entries may arrive at any aligned
 * position; an incremental index starts as a copy of the previous one and only changed chunks
 * are appended, so its close skips the completeness checks.
 */
export class FixedSessionIndex implements SessionIndex {
  readonly kind = "fixed";
  readonly name: string;
  readonly #queue = new SerialQueue();
  /** Positions appended past and still holding a placeholder (memory only for actual gaps). */
  readonly #placeholders = new Set<number>();
  #appended = 0;
  #appendedBytes = 0;
  #shortChunks = 0;

  constructor(
    readonly wid: number,
    private readonly file: SnapshotIndexFile<FixedIndexWriter>,
    readonly incremental: boolean,
  ) {
    this.name = file.name;
  }

  get size(): number {
    return this.file.writer.size;
  }

  get chunkSize(): number {
    return this.file.writer.chunkSize;
  }

  checkChunkSize(size: number): void {
    if (size > this.chunkSize) {
      throw new ProtocolError(
        "bad-chunk",
        `${writerLabel(this)}: chunk of ${size} bytes is larger than the chunk size ${this.chunkSize}`,
        { wid: this.wid, size, chunkSize: this.chunkSize },
      );
    }
  }

  chunkUploaded(size: number): void {
    this.checkChunkSize(size);
    if (size < this.chunkSize && ++this.#shortChunks > 1) {
      throw new ProtocolError(
        "bad-chunk",
        `${writerLabel(this)}: a second chunk shorter than the chunk size (${size} bytes); only the last one may be`,
        { wid: this.wid, size, chunkSize: this.chunkSize },
      );
    }
  }

  append(entries: readonly AppendEntry[]): Promise<void> {
    return this.#queue.run(async () => {
      const positions = entries.map((entry) => this.#positionOf(entry));
      for (const [i, entry] of entries.entries()) {
        await this.#put(positions[i]!, entry.digest);
        this.#appended++;
        this.#appendedBytes += entry.size;
      }
    });
  }

  close(request: CloseRequest): Promise<IndexCloseResult> {
    return this.#queue.run(async () => {
      const problems = this.#closeProblems(request);
      if (problems.length > 0) {
        await this.file.discard();
        throw closeMismatch(this, problems);
      }
      try {
        return await this.file.close({ csum: request.csum });
      } catch (err) {
        throw asCloseMismatch(this, err, request.csum);
      }
    });
  }

  discard(): Promise<void> {
    return this.file.discard();
  }

  #positionOf(entry: AppendEntry): number {
    const found = fixedChunkPosition(
      entry.offset + entry.size,
      entry.size,
      this.size,
      this.chunkSize,
    );
    if ("problem" in found) {
      throw new ProtocolError(
        "bad-offset",
        `${writerLabel(this)}: chunk ${entry.digest.toString("hex")} at offset ${entry.offset} does not fit: ${found.problem}`,
        { wid: this.wid, offset: entry.offset, size: entry.size },
      );
    }
    return found.index;
  }

  async #put(index: number, digest: Buffer): Promise<void> {
    const writer = this.file.writer;
    while (writer.count < index) {
      this.#placeholders.add(writer.count);
      await writer.append(PLACEHOLDER);
    }
    if (index === writer.count) await writer.append(digest);
    else await writer.set(index, digest);
    this.#placeholders.delete(index);
  }

  /** The first position no chunk was appended at, if any (an incremental index has none). */
  #firstHole(): number | undefined {
    const writer = this.file.writer;
    let first = writer.count < writer.chunkCount ? writer.count : undefined;
    for (const index of this.#placeholders) if (first === undefined || index < first) first = index;
    return first;
  }

  #closeProblems(request: CloseRequest): string[] {
    const problems: string[] = [];
    if (request.chunkCount !== this.#appended) {
      problems.push(`chunk-count ${request.chunkCount}, but ${this.#appended} were appended`);
    }
    if (this.incremental) return problems;
    if (request.size !== this.#appendedBytes) {
      problems.push(
        `size ${request.size}, but the appended chunks hold ${this.#appendedBytes} bytes`,
      );
    }
    const total = this.file.writer.chunkCount;
    if (request.chunkCount !== total) {
      problems.push(`chunk-count ${request.chunkCount}, but the image has ${total} chunks`);
    }
    const hole = this.#firstHole();
    if (hole !== undefined)
      problems.push(`no chunk was appended at offset ${hole * this.chunkSize}`);
    return problems;
  }
}
