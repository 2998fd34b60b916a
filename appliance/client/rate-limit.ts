/**
 * `--rate`: a token bucket on the bytes a backup uploads or a restore downloads, applied as a
 * wrapper around the protocol client so the upload and restore code stay unaware of it.
 */
import type { BackupWriterClient } from "../protocol/client/backup-writer-client.js";
import type { ReaderClient } from "../protocol/client/reader-client.js";

export interface RateLimit {
  /** Bytes per second. */
  readonly rate: number;
  /** Bytes that may pass at once after a pause (default: one second's worth). */
  readonly burst?: number;
}

/** Time as the bucket sees it; tests pass a clock they move by hand. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
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

  /** Resolves when `bytes` may pass. */
  take(bytes: number): Promise<void> {
    const turn = this.#queue.then(() => this.#wait(bytes));
    this.#queue = turn;
    return turn;
  }

  async #wait(bytes: number): Promise<void> {
    const now = this.#clock.now();
    const refill = ((now - this.#last) / 1000) * this.#rate;
    this.#tokens = Math.min(this.#burst, this.#tokens + refill);
    this.#last = now;
    this.#tokens -= bytes;
    // in debt: wait until the bucket is back at zero; the refill on the next take covers it
    if (this.#tokens < 0) await this.#clock.sleep((-this.#tokens / this.#rate) * 1000);
  }
}

/** The writer with chunk and blob uploads paced by `limit`; unchanged without one. */
export function limitUploads(
  writer: BackupWriterClient,
  limit: RateLimit | undefined,
): BackupWriterClient {
  if (limit === undefined) return writer;
  const bucket = new TokenBucket(limit);
  return wrap(writer, {
    uploadChunk: async (kind, wid, chunk) => {
      await bucket.take(chunk.encoded.length);
      return writer.uploadChunk(kind, wid, chunk);
    },
    uploadBlob: async (name, encoded) => {
      await bucket.take(encoded.length);
      return writer.uploadBlob(name, encoded);
    },
  });
}

/** The reader with chunk and file downloads paced by `limit`; unchanged without one. */
export function limitDownloads(reader: ReaderClient, limit: RateLimit | undefined): ReaderClient {
  if (limit === undefined) return reader;
  const bucket = new TokenBucket(limit);
  return wrap(reader, {
    chunk: async (digest) => {
      const data = await reader.chunk(digest);
      await bucket.take(data.length);
      return data;
    },
    download: async (name) => {
      const data = await reader.download(name);
      await bucket.take(data.length);
      return data;
    },
  });
}

/** `target` with some methods replaced; every other member is the target's own. */
function wrap<T extends object>(target: T, replaced: Partial<T>): T {
  return new Proxy(target, {
    get(object, key) {
      if (Object.hasOwn(replaced, key)) return replaced[key as keyof T];
      const value = Reflect.get(object, key, object);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}
