import { Chunker, DEFAULT_CHUNK_AVG } from "../format/chunker.js";
import type { KnownChunk } from "./index-upload.js";

/**
 * Chunks a split archive's `.ppxar` stream (pxar-format.md §7) as it is written: content-defined
 * cuts as usual, plus cuts the encoder's side announces by stream position — a suggested one at
 * each new file (taken when the chunk so far is between the chunker's min and max), forced ones
 * around the start and tail markers (so an unchanged archive re-uses every chunk), and re-used
 * previous chunks injected whole, which end the chunk before them.
 *
 * Positions are announced before the bytes that reach them are pushed into the source; injected
 * chunks count in positions like written bytes.
 */
export class PayloadChunker {
  readonly #avg: number;
  readonly #suggested: number[] = [];
  readonly #forced: number[] = [];
  readonly #injections: { at: number; chunks: readonly KnownChunk[] }[] = [];

  constructor(avg = DEFAULT_CHUNK_AVG) {
    this.#avg = avg;
  }

  /** A file's PAYLOAD header starts at `at`: a good place for a cut. */
  suggestCut(at: number): void {
    this.#suggested.push(at);
  }

  /** A chunk must end at `at`. */
  forceCut(at: number): void {
    this.#forced.push(at);
  }

  /** `chunks` of the previous payload go at `at`, where the bytes pushed so far end. */
  inject(at: number, chunks: readonly KnownChunk[]): void {
    if (chunks.length > 0) this.#injections.push({ at, chunks });
  }

  /** The chunks of `source`, written bytes as Buffers and injected ones by digest, in order. */
  async *chunks(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer | KnownChunk> {
    let chunker = new Chunker({ avg: this.#avg });
    let pending: Buffer[] = [];
    let pendingLength = 0;
    let position = 0;
    const cut = (): Buffer | null => {
      if (pendingLength === 0) return null;
      const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      pendingLength = 0;
      chunker = new Chunker({ avg: this.#avg });
      return chunk;
    };
    /** Everything announced for exactly `position`: cuts, then injected chunks. */
    const arrive = function* (this: PayloadChunker): Generator<Buffer | KnownChunk> {
      dropBefore(this.#suggested, position);
      dropBefore(this.#forced, position);
      let forced = this.#forced[0] === position;
      if (this.#suggested[0] === position) {
        forced ||= pendingLength >= chunker.min && pendingLength <= chunker.max;
      }
      const next = this.#injections[0]?.at;
      if (next !== undefined && next < position) {
        throw new RangeError(`chunks injected at ${next}, behind the payload position ${position}`);
      }
      const injection = next === position ? this.#injections.shift() : undefined;
      if (forced || injection !== undefined) {
        const chunk = cut();
        if (chunk !== null) yield chunk;
      }
      for (const known of injection?.chunks ?? []) {
        position += known.size;
        yield known;
      }
      // an injection may end where another cut or injection was announced
      if (injection !== undefined) yield* arrive();
    }.bind(this);

    for await (const piece of source) {
      let rest = piece;
      while (rest.length > 0) {
        yield* arrive();
        const take = Math.min(rest.length, this.#nextStop(position) - position);
        let part = rest.subarray(0, take);
        rest = rest.subarray(take);
        position += take;
        for (let at = chunker.scan(part); at >= 0; at = chunker.scan(part)) {
          pending.push(part.subarray(0, at));
          pendingLength += at;
          yield cut()!;
          part = part.subarray(at);
        }
        if (part.length > 0) {
          pending.push(part);
          pendingLength += part.length;
        }
      }
    }
    yield* arrive();
    const last = cut();
    if (last !== null) yield last;
  }

  /** The nearest announced position after `position`. */
  #nextStop(position: number): number {
    const after = (queue: readonly number[]) =>
      queue.find((at) => at > position) ?? Number.POSITIVE_INFINITY;
    const injection = this.#injections[0]?.at ?? Number.POSITIVE_INFINITY;
    return Math.min(after(this.#suggested), after(this.#forced), injection);
  }
}

function dropBefore(queue: number[], position: number): void {
  while (queue.length > 0 && queue[0]! < position) queue.shift();
}
