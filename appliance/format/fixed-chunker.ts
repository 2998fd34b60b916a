import { type BoundaryScanner, splitChunks } from "./chunk-stream.js";
import { FormatError } from "./errors.js";

/** The chunk size of fixed indexes: PBS hard-codes 4 MiB for images (pbs-formats.md §6). */
export const FIXED_CHUNK_SIZE = 4 * 1024 * 1024;

/** Cuts every `size` bytes; the last chunk is whatever remains. */
export class FixedChunker implements BoundaryScanner {
  #filled = 0;

  constructor(readonly size = FIXED_CHUNK_SIZE) {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new FormatError("invalid-argument", `fixed chunk size must be positive, got ${size}`, {
        size,
      });
    }
  }

  scan(data: Uint8Array): number {
    const missing = this.size - this.#filled;
    if (data.length >= missing) {
      this.#filled = 0;
      return missing;
    }
    this.#filled += data.length;
    return -1;
  }
}

/** Cuts a stream into fixed-size chunks; see `splitChunks` for how pieces are handled. */
export function fixedChunkStream(
  source: AsyncIterable<Uint8Array>,
  { size = FIXED_CHUNK_SIZE }: { size?: number } = {},
): AsyncGenerator<Buffer> {
  return splitChunks(source, new FixedChunker(size));
}
