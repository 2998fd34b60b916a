import { DynamicIndexReader } from "../format/dynamic-index.js";
import { FixedIndexReader } from "../format/fixed-index.js";
import type { IndexReader } from "../format/index-file.js";
import { ProtocolError } from "./errors.js";

/**
 * The chunks a session may refer to, by digest (hex) with their plaintext length: in a backup,
 * those uploaded in the session or listed by a previous index the client downloaded; in a
 * reader, those of the indexes it downloaded.
 */
export class KnownChunks {
  readonly #sizes = new Map<string, number>();

  get size(): number {
    return this.#sizes.size;
  }

  register(digest: string, size: number): void {
    this.#sizes.set(digest, size);
  }

  /** Every chunk of an index, with the length of the range it covers. */
  registerIndex(index: IndexReader): void {
    for (let i = 0; i < index.count; i++) {
      const { start, end } = index.chunkRange(i);
      this.#sizes.set(index.digest(i).toString("hex"), end - start);
    }
  }

  /** The chunk's length, or undefined when the session does not know it. */
  sizeOf(digest: string): number | undefined {
    return this.#sizes.get(digest);
  }

  has(digest: string): boolean {
    return this.#sizes.has(digest);
  }
}

/** Parses a downloaded index (undefined for a blob); a damaged one is the server's fault. */
export function parseStoredIndex(name: string, bytes: Buffer): IndexReader | undefined {
  try {
    if (name.endsWith(".fidx")) return FixedIndexReader.parse(bytes);
    if (name.endsWith(".didx")) return DynamicIndexReader.parse(bytes);
    return undefined;
  } catch (err) {
    throw new ProtocolError(
      "damaged-file",
      `stored index ${name} is damaged: ${(err as Error).message}`,
      { archive: name },
      undefined,
      { cause: err },
    );
  }
}
