import { type BoundaryFinder, defaultFinder, WINDOW } from "./buzhash-scan.js";
import { type BoundaryScanner, splitChunks } from "./chunk-stream.js";
import { FormatError } from "./errors.js";

/** PBS's average chunk size for pxar archives (min 1 MiB, max 16 MiB). */
export const DEFAULT_CHUNK_AVG = 4 * 1024 * 1024;

/** Averages accepted: powers of two whose mask and maximum stay within 31 bits. */
const SMALLEST_AVG = 64;
const LARGEST_AVG = 2 ** 28;

export interface ChunkerOptions {
  /** Average chunk size in bytes, a power of two; default 4 MiB. */
  avg?: number;
  /** The boundary search to use; default the native one when built. */
  finder?: BoundaryFinder;
}

/**
 * PBS's content-defined chunker (buzhash over a 64-byte window, pbs-formats.md §6), fed piece by
 * piece. Chunk lengths are at least `min` (but for the last) and at most `max`; a chunk ends after
 * the first byte from `min` on whose window hash has `(h & mask) >= threshold`.
 */
export class Chunker implements BoundaryScanner {
  readonly avg: number;
  readonly min: number;
  readonly max: number;
  readonly mask: number;
  readonly threshold: number;
  /** PBS tests no boundary before its window has filled and rolled once. */
  readonly #firstTest: number;
  readonly #forcedCut: number;
  readonly #find: BoundaryFinder;
  /** Bytes of the current chunk consumed by earlier calls. */
  #consumed = 0;
  /** The last 64 bytes consumed, for windows that straddle two pieces. */
  readonly #tail = new Uint8Array(WINDOW);
  readonly #straddle = new Uint8Array(2 * WINDOW);

  constructor({ avg = DEFAULT_CHUNK_AVG, finder = defaultFinder }: ChunkerOptions = {}) {
    if (!Number.isInteger(avg) || avg < SMALLEST_AVG || avg > LARGEST_AVG || avg & (avg - 1)) {
      throw new FormatError(
        "invalid-argument",
        `chunk average must be a power of two from ${SMALLEST_AVG} to ${LARGEST_AVG}, got ${avg}`,
        { avg },
      );
    }
    this.avg = avg;
    this.min = avg / 4;
    this.max = avg * 4;
    this.mask = avg * 2 - 1;
    this.threshold = this.mask - 2;
    this.#firstTest = Math.max(this.min, WINDOW + 1);
    this.#forcedCut = Math.max(this.max, this.#firstTest);
    this.#find = finder;
  }

  scan(data: Uint8Array): number {
    const consumed = this.#consumed;
    const first = Math.max(this.#firstTest, consumed + 1);
    const last = Math.min(this.#forcedCut, consumed + data.length);
    if (first <= last) {
      const end = this.#search(data, consumed, first, last);
      const cut = end >= 0 ? end : last === this.#forcedCut ? last - consumed : -1;
      if (cut >= 0) {
        this.#consumed = 0;
        return cut;
      }
    }
    this.#consumed = consumed + data.length;
    this.#keepTail(data);
    return -1;
  }

  /** Offset in `data` of the first boundary at a chunk length in [first, last], or −1. */
  #search(data: Uint8Array, consumed: number, first: number, last: number): number {
    let from = first - consumed;
    if (from < WINDOW) {
      // These windows begin in earlier pieces: test them on the kept tail joined to data's head.
      this.#straddle.set(this.#tail, 0);
      this.#straddle.set(data.subarray(0, WINDOW), WINDOW);
      const to = Math.min(last - consumed, WINDOW - 1);
      const end = this.#find(this.#straddle, from + WINDOW, to + WINDOW, this.mask, this.threshold);
      if (end >= 0) return end - WINDOW;
      from = WINDOW;
    }
    return this.#find(data, from, last - consumed, this.mask, this.threshold);
  }

  #keepTail(data: Uint8Array): void {
    if (data.length >= WINDOW) {
      this.#tail.set(data.subarray(data.length - WINDOW));
    } else {
      this.#tail.copyWithin(0, data.length);
      this.#tail.set(data, WINDOW - data.length);
    }
  }
}

/** Cuts a stream into PBS dynamic chunks; see `splitChunks` for how pieces are handled. */
export function chunkStream(
  source: AsyncIterable<Uint8Array>,
  options: ChunkerOptions = {},
): AsyncGenerator<Buffer> {
  return splitChunks(source, new Chunker(options));
}
