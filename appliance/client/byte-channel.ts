/**
 * Hands pieces from one producer (an encoder writing into a sink) to one consumer (an async loop),
 * without copying; the producer waits while `limit` bytes are queued, so memory stays bounded.
 */
export class ByteChannel implements AsyncIterable<Buffer> {
  readonly #limit: number;
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #failure: Error | undefined;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  constructor(limit = 8 * 1024 * 1024) {
    this.#limit = limit;
  }

  /** Queues a piece (never touched again by the caller); resolves once there is room. */
  async push(piece: Buffer): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (piece.length === 0) return;
    this.#queue.push(piece);
    this.#queued += piece.length;
    this.#wake();
    while (this.#queued > this.#limit && !this.#failure) {
      await new Promise<void>((resolve) => {
        this.#wakeProducer = resolve;
      });
    }
    if (this.#failure) throw this.#failure;
  }

  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** Stops both sides: a waiting producer and the consumer get `error`. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#wake();
    this.#wakeProducer?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      const piece = this.#queue.shift();
      if (piece !== undefined) {
        this.#queued -= piece.length;
        if (this.#queued <= this.#limit) this.#wakeProducer?.();
        yield piece;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve;
      });
    }
  }

  #wake(): void {
    const wake = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    wake?.();
  }
}
