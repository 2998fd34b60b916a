import { malformed } from "./errors.js";

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Reads exact byte counts from a stream handed over in pieces of any size (a chunk stream),
 * counting the offset. Results inside one piece are views of it; only reads that span pieces copy.
 */
export class ChunkReader {
  readonly #source: AsyncIterator<Uint8Array>;
  /** Names the stream in errors ("archive", "payload stream"). */
  readonly #label: string;
  #piece: Buffer = EMPTY;
  #at = 0;
  #position = 0;
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array>, label: string) {
    this.#source = source[Symbol.asyncIterator]();
    this.#label = label;
  }

  /** Offset of the next byte. */
  get position(): number {
    return this.#position;
  }

  /** Whether the stream has no more bytes. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /** Exactly `length` bytes; the stream ending first is a truncation naming `what`. */
  async read(length: number, what: string): Promise<Buffer> {
    if (!(await this.#fill()) && length > 0) throw this.#truncated(what);
    if (this.#piece.length - this.#at >= length) return this.#take(length);
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      if (!(await this.#fill())) throw this.#truncated(what);
      const part = this.#take(Math.min(length - done, this.#piece.length - this.#at));
      out.set(part, done);
      done += part.length;
    }
    return out;
  }

  /** The next 1…`max` bytes as they come in the current piece. */
  async next(max: number, what: string): Promise<Buffer> {
    if (!(await this.#fill())) throw this.#truncated(what);
    return this.#take(Math.min(max, this.#piece.length - this.#at));
  }

  async skip(length: number, what: string): Promise<void> {
    let left = length;
    while (left > 0) left -= (await this.next(left, what)).length;
  }

  /** Reads to the end of the stream and returns its last `length` bytes (fewer if shorter). */
  async drainKeepingTail(length: number): Promise<Buffer> {
    let tail: Buffer = EMPTY;
    while (await this.#fill()) {
      const piece = this.#take(this.#piece.length - this.#at);
      const joined = piece.length >= length ? piece : Buffer.concat([tail, piece]);
      tail = joined.subarray(Math.max(0, joined.length - length));
    }
    return tail;
  }

  #take(length: number): Buffer {
    const part = this.#piece.subarray(this.#at, this.#at + length);
    this.#at += length;
    this.#position += length;
    return part;
  }

  /** Makes sure the current piece has unread bytes; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    while (this.#at >= this.#piece.length) {
      if (this.#ended) return false;
      const next = await this.#source.next();
      if (next.done) {
        this.#ended = true;
        return false;
      }
      const bytes = next.value;
      this.#piece = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      this.#at = 0;
    }
    return true;
  }

  #truncated(what: string) {
    return malformed("truncated", `${this.#label} ends inside ${what}`, this.#position, {
      stream: this.#label,
    });
  }
}
