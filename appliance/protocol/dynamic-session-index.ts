import type { SnapshotIndexFile } from "../datastore/snapshot-index-file.js";
import type { DynamicIndexWriter } from "../format/dynamic-index.js";
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

/**
 * A dynamic index (`.didx`) being written in a backup session: chunks are appended end to end, so
 * each entry's offset must be where the previous one ended.
 */
export class DynamicSessionIndex implements SessionIndex {
  readonly kind = "dynamic";
  readonly name: string;
  readonly #queue = new SerialQueue();
  #appended = 0;

  constructor(
    readonly wid: number,
    private readonly file: SnapshotIndexFile<DynamicIndexWriter>,
  ) {
    this.name = file.name;
  }

  checkChunkSize(): void {}

  chunkUploaded(): void {}

  append(entries: readonly AppendEntry[]): Promise<void> {
    return this.#queue.run(async () => {
      const writer = this.file.writer;
      let end = writer.size;
      for (const entry of entries) {
        if (entry.offset !== end) {
          throw new ProtocolError(
            "bad-offset",
            `${writerLabel(this)}: chunk ${entry.digest.toString("hex")} appended at offset ${entry.offset}, expected ${end}`,
            { wid: this.wid, offset: entry.offset, expected: end },
          );
        }
        end += entry.size;
      }
      for (const entry of entries) {
        await writer.append(entry.offset + entry.size, entry.digest);
        this.#appended++;
      }
    });
  }

  close(request: CloseRequest): Promise<IndexCloseResult> {
    return this.#queue.run(async () => {
      const problems: string[] = [];
      if (request.chunkCount !== this.#appended) {
        problems.push(`chunk-count ${request.chunkCount}, but ${this.#appended} were appended`);
      }
      if (request.size !== this.file.writer.size) {
        problems.push(`size ${request.size}, but the chunks end at ${this.file.writer.size}`);
      }
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
}
