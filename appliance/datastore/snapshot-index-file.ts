import type { FileHandle } from "node:fs/promises";
import { unlink } from "node:fs/promises";
import type { DynamicIndexWriter } from "../format/dynamic-index.js";
import type { FixedIndexWriter } from "../format/fixed-index.js";
import type { IndexCloseResult } from "../format/index-file.js";
import { renameDurably } from "./atomic-file.js";
import type { SyncLevel } from "./chunk-store.js";
import { DatastoreError } from "./errors.js";

/** What the caller knows the finished index must be (the client's announced values). */
export interface IndexExpectation {
  csum?: Uint8Array | string;
  size?: number;
  chunkCount?: number;
}

/** How an index file reports back to the snapshot writer that opened it. */
export interface IndexFileHooks {
  syncLevel: SyncLevel;
  /** The index is in place under its final name. */
  closed(name: string, result: IndexCloseResult): void;
  /** The index was abandoned; its name is free again. */
  dropped(name: string): void;
}

/**
 * One index being written into a snapshot: the format writer streams into `<name>.tmp_fidx` /
 * `.tmp_didx`, and close() renames it to `<name>` once its checksum is in the header, so a reader
 * or GC never sees a half-written index under its real name.
 */
export class SnapshotIndexFile<W extends FixedIndexWriter | DynamicIndexWriter> {
  #state: "open" | "closing" | "closed" | "dropped" = "open";

  constructor(
    readonly name: string,
    /** Append entries here; close() through this object, not through the writer. */
    readonly writer: W,
    readonly tempPath: string,
    readonly finalPath: string,
    readonly handle: FileHandle,
    readonly hooks: IndexFileHooks,
  ) {}

  get isOpen(): boolean {
    return this.#state === "open";
  }

  /**
   * Finishes the index, checks it against what the client announced, and renames it into place.
   * Any failure discards the file and frees the name.
   */
  async close(expect: IndexExpectation = {}): Promise<IndexCloseResult> {
    if (this.#state !== "open") {
      throw new DatastoreError("bad-state", `index ${this.name} is already ${this.#state}`, {
        filename: this.name,
      });
    }
    this.#state = "closing";
    try {
      const result = await this.writer.close();
      checkExpectation(this.name, result, expect);
      const fsync = this.hooks.syncLevel === "file";
      if (fsync) await this.handle.sync();
      await this.handle.close();
      await renameDurably(this.tempPath, this.finalPath, fsync);
      this.#state = "closed";
      this.hooks.closed(this.name, result);
      return result;
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  /** Drops an unfinished index: closes and removes the temp file. Idempotent. */
  async discard(): Promise<void> {
    if (this.#state === "closed" || this.#state === "dropped") return;
    this.#state = "dropped";
    await this.handle.close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
    this.hooks.dropped(this.name);
  }
}

function checkExpectation(name: string, result: IndexCloseResult, expect: IndexExpectation): void {
  const csum = result.csum.toString("hex");
  const expectedCsum =
    expect.csum === undefined
      ? undefined
      : typeof expect.csum === "string"
        ? expect.csum
        : Buffer.from(expect.csum).toString("hex");
  const problems: string[] = [];
  if (expect.size !== undefined && expect.size !== result.size) {
    problems.push(`size ${result.size}, expected ${expect.size}`);
  }
  if (expect.chunkCount !== undefined && expect.chunkCount !== result.chunkCount) {
    problems.push(`${result.chunkCount} chunks, expected ${expect.chunkCount}`);
  }
  if (expectedCsum !== undefined && expectedCsum !== csum) {
    problems.push(`checksum ${csum}, expected ${expectedCsum}`);
  }
  if (problems.length > 0) {
    throw new DatastoreError("manifest-mismatch", `index ${name} has ${problems.join(", ")}`, {
      filename: name,
      size: result.size,
      chunkCount: result.chunkCount,
      csum,
    });
  }
}
