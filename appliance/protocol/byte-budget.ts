/**
 * Bytes of request bodies a session may hold at once. A stream starts reading its body only once
 * its whole declared size is granted, so a body being read can always complete; streams waiting
 * for a grant are not read, and HTTP/2 flow control holds their senders back.
 */
export class ByteBudget {
  #available: number;
  readonly #waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.#available = capacity;
  }

  get available(): number {
    return this.#available;
  }

  /**
   * Resolves with the release function once `bytes` are granted, in the order asked. A request
   * larger than the capacity is granted when nothing else is held.
   */
  acquire(bytes: number): Promise<() => void> {
    if (bytes <= 0) return Promise.resolve(() => {});
    return new Promise((resolve) => {
      this.#waiting.push({ bytes, grant: () => resolve(this.#releaser(bytes)) });
      this.#drain();
    });
  }

  #releaser(bytes: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#available += bytes;
      this.#drain();
    };
  }

  #drain(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!;
      const fits = next.bytes <= this.#available || this.#available === this.capacity;
      if (!fits) return;
      this.#waiting.shift();
      this.#available -= next.bytes;
      next.grant();
    }
  }
}
