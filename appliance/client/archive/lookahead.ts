/**
 * Bounded read-ahead for the walk: work for the next entries of a directory is started early and
 * taken back strictly in list order, so the disk and libuv's thread pool are kept busy while the
 * archive is still written one entry after another.
 */

/** What `start` says about an item: its task, `null` for none needed, `"later"` when busy. */
export type LookaheadStart<R> = Promise<R> | null | "later";

/** Tasks for at most `depth` items past the one last taken, taken back in item order. */
export class Lookahead<T, R> {
  readonly #items: readonly T[];
  readonly #depth: number;
  readonly #start: (item: T) => LookaheadStart<R>;
  readonly #tasks = new Map<number, Promise<R>>();
  /** The first item not yet looked at by `start`. */
  #next = 0;

  constructor(items: readonly T[], depth: number, start: (item: T) => LookaheadStart<R>) {
    this.#items = items;
    this.#depth = depth;
    this.#start = start;
    this.#fill(depth);
  }

  /** The task started for item `index`, if any; the window then moves on past it. */
  take(index: number): Promise<R> | undefined {
    const task = this.#tasks.get(index);
    this.#tasks.delete(index);
    // an item reached before its task could start is done by the caller itself
    if (this.#next <= index) this.#next = index + 1;
    this.#fill(index + 1 + this.#depth);
    return task;
  }

  /** Waits for the tasks never taken and hands each result to `discard` (closing what they hold). */
  async dispose(discard: (result: R) => Promise<void>): Promise<void> {
    const left = [...this.#tasks.values()];
    this.#tasks.clear();
    this.#next = this.#items.length;
    for (const outcome of await Promise.allSettled(left)) {
      if (outcome.status === "fulfilled") await discard(outcome.value);
    }
  }

  #fill(end: number): void {
    const stop = Math.min(end, this.#items.length);
    while (this.#next < stop) {
      const task = this.#start(this.#items[this.#next]!);
      if (task === "later") return;
      if (task !== null) {
        // its failure is reported when taken; a task never taken must not crash the process
        task.catch(() => {});
        this.#tasks.set(this.#next, task);
      }
      this.#next++;
    }
  }
}

/** Runs `work` on every item, at most `limit` (at least one) at a time; results in item order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(limit, 1), items.length) }, worker));
  return results;
}
