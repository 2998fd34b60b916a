/**
 * Bounded read-ahead for the walk: the items after the one being archived are read in batches
 * (one native call each), never more than `depth` items read and not yet taken, and their
 * results are taken back strictly in item order, so that the thread pool reads while the
 * archive is still written one entry after another.
 */

export interface BatchLookaheadOptions<T, R> {
  /** Items read ahead and not yet taken, at most; 0 reads nothing ahead. */
  readonly depth: number;
  /** Items per batch (at most `depth`); a batch starts once it fits. */
  readonly batchSize: number;
  /** Whether an item is to be read ahead; the others are left to the caller, at their turn. */
  readonly ahead: (item: T) => boolean;
  /** Reads the items of a batch; results in item order. */
  readonly read: (items: T[]) => Promise<R[]>;
}

/** Results read ahead for the items of a list, in batches, taken back in item order. */
export class BatchLookahead<T, R> {
  readonly #items: readonly T[];
  readonly #options: BatchLookaheadOptions<T, R>;
  readonly #batchSize: number;
  readonly #results = new Map<number, Promise<R>>();
  readonly #batches = new Set<Promise<unknown>>();
  /** The first item no batch has looked at. */
  #next = 0;

  constructor(items: readonly T[], options: BatchLookaheadOptions<T, R>) {
    if (!Number.isSafeInteger(options.depth) || options.depth < 0) {
      throw new RangeError(`depth ${options.depth} must be a non-negative integer`);
    }
    if (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`batchSize ${options.batchSize} must be a positive integer`);
    }
    this.#items = items;
    this.#options = options;
    this.#batchSize = Math.min(options.batchSize, Math.max(options.depth, 1));
    this.#fill();
  }

  /** The result read ahead for item `index`, if any; more items are then read as room allows. */
  take(index: number): Promise<R> | undefined {
    const result = this.#results.get(index);
    this.#results.delete(index);
    // an item reached before a batch could look at it is read by the caller itself
    if (this.#next <= index) this.#next = index + 1;
    this.#fill();
    return result;
  }

  /** Waits for the batches still running (the walk stopped early); their results are dropped. */
  async settle(): Promise<void> {
    this.#next = this.#items.length;
    this.#results.clear();
    await Promise.allSettled([...this.#batches]);
  }

  /** Starts whole batches while they fit within `depth` (a last, shorter one at the list's end). */
  #fill(): void {
    while (this.#results.size + this.#batchSize <= this.#options.depth) {
      const indexes: number[] = [];
      let next = this.#next;
      for (; next < this.#items.length && indexes.length < this.#batchSize; next++) {
        if (this.#options.ahead(this.#items[next]!)) indexes.push(next);
      }
      this.#next = next;
      if (indexes.length === 0) return;
      this.#start(indexes);
    }
  }

  #start(indexes: number[]): void {
    const batch = this.#options.read(indexes.map((index) => this.#items[index]!));
    this.#batches.add(batch);
    const forget = () => this.#batches.delete(batch);
    // a failure is reported when an item is taken; a batch never taken must not crash the process
    batch.then(forget, forget);
    for (const [position, index] of indexes.entries()) {
      const result = batch.then((results) => results[position]!);
      result.catch(() => {});
      this.#results.set(index, result);
    }
  }
}
