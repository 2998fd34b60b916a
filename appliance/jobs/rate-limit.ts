/**
 * Inbound rate limits of a sync (`rate-in`, `burst-in`) as a wrapper around a source: a token
 * bucket charged with every byte downloaded, waiting before the next download when it runs dry.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { SourceSnapshot, SyncSource } from "./sync-source.js";

export class TokenBucket {
  #tokens: number;
  #stamp: number;

  /** `rate` bytes per second, at most `burst` bytes saved up (default: one second's worth). */
  constructor(
    readonly rate: number,
    readonly burst = rate,
    private readonly now: () => number = Date.now,
  ) {
    this.#tokens = burst;
    this.#stamp = now();
  }

  /** Charges `bytes`; resolves once the debt is paid off at the configured rate. */
  async charge(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#stamp) / 1000) * this.rate);
    this.#stamp = now;
    this.#tokens -= bytes;
    if (this.#tokens < 0) await sleep((-this.#tokens / this.rate) * 1000, undefined, { signal });
  }
}

export function rateLimitedSource(
  source: SyncSource,
  bucket: TokenBucket,
  signal?: AbortSignal,
): SyncSource {
  const metered = async (download: Promise<Buffer>): Promise<Buffer> => {
    const bytes = await download;
    await bucket.charge(bytes.length, signal);
    return bytes;
  };
  return {
    description: source.description,
    namespaces: (parent, maxDepth) => source.namespaces(parent, maxDepth),
    groups: (ns) => source.groups(ns),
    snapshots: (ns, group) => source.snapshots(ns, group),
    close: () => source.close(),
    open: async (ref): Promise<SourceSnapshot> => {
      const snapshot = await source.open(ref);
      return {
        file: (name) => metered(snapshot.file(name)),
        chunk: (digest) => metered(snapshot.chunk(digest)),
        close: () => snapshot.close(),
      };
    },
  };
}
