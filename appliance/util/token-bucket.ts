/**
 * A token bucket on bytes, shared by the client's `--rate` and a sync job's rate-in/rate-out. It
 * lives outside both layers because it knows nothing of either: only bytes, time and order.
 */

export interface RateLimit {
  /** Bytes per second. */
  readonly rate: number;
  /** Bytes that may pass at once after a pause (default: one second's worth). */
  readonly burst?: number;
}

/** Time as the bucket sees it; tests pass a clock they move by hand. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/**
 * Lets bytes pass at `rate` per second with bursts up to `burst`; a request larger than the
 * bucket passes once the bucket has been refilled by its size. Callers are served in order.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(limit: RateLimit, clock: Clock = REAL_CLOCK) {
    if (!(limit.rate > 0)) throw new RangeError(`rate ${limit.rate} must be positive`);
    this.#rate = limit.rate;
    this.#burst = limit.burst ?? limit.rate;
    this.#clock = clock;
    this.#tokens = this.#burst;
    this.#last = clock.now();
  }

  /** Resolves when `bytes` may pass; rejects when `signal` aborts the wait. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(() => this.#wait(bytes, signal));
    // one caller's abort must not fail the callers queued behind it
    this.#queue = turn.catch(() => {});
    return turn;
  }

  async #wait(bytes: number, signal: AbortSignal | undefined): Promise<void> {
    const now = this.#clock.now();
    const refill = ((now - this.#last) / 1000) * this.#rate;
    this.#tokens = Math.min(this.#burst, this.#tokens + refill);
    this.#last = now;
    this.#tokens -= bytes;
    // in debt: wait until the bucket is back at zero; the refill on the next take covers it
    if (this.#tokens < 0) await this.#clock.sleep((-this.#tokens / this.#rate) * 1000, signal);
  }
}
