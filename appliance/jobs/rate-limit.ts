/**
 * A sync's rate limits as wrappers: rate-in/burst-in around the source (charged with every byte
 * downloaded), rate-out/burst-out around a push target's backup sessions (every byte uploaded).
 */
import { limitUploads } from "../protocol/client/rate-limited-clients.js";
import { TokenBucket } from "../util/token-bucket.js";
import { parseByteSize } from "./sync-config.js";
import type { PushTarget } from "./sync-push-target.js";
import type { SourceSnapshot, SyncSource } from "./sync-source.js";

/** The bucket a configured rate and burst ask for; none without a rate (or a rate of 0). */
export function configuredBucket(
  rate: string | number | undefined,
  burst: string | number | undefined,
): TokenBucket | undefined {
  const bytes = rate === undefined ? undefined : parseByteSize(rate);
  if (bytes === undefined || bytes === 0) return undefined;
  const burstBytes = burst === undefined ? undefined : parseByteSize(burst);
  return new TokenBucket({ rate: bytes, ...(burstBytes !== undefined && { burst: burstBytes }) });
}

export function rateLimitedSource(
  source: SyncSource,
  bucket: TokenBucket,
  signal?: AbortSignal,
): SyncSource {
  const metered = async (download: Promise<Buffer>): Promise<Buffer> => {
    const bytes = await download;
    await bucket.take(bytes.length, signal);
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

/** The target with every session's uploads charged to one bucket, shared by all snapshots. */
export function rateLimitedTarget(
  target: PushTarget,
  bucket: TokenBucket,
  signal?: AbortSignal,
): PushTarget {
  return {
    ...target,
    startBackup: async (ref) => limitUploads(await target.startBackup(ref), bucket, signal),
  };
}
