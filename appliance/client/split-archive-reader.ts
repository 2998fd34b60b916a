import type { CryptConfig } from "../format/crypt-config.js";
import { DynamicIndexReader } from "../format/dynamic-index.js";
import { checkManifestFile, type Manifest } from "../format/manifest.js";
import { PxarAccessor } from "../format/pxar/accessor.js";
import type { ReadAt } from "../format/pxar/range-reader.js";
import type { ReaderClient } from "../protocol/client/reader-client.js";
import type { SplitArchiveNames } from "./change-detection.js";
import { fetchOne } from "./chunk-fetcher.js";
import { ClientError } from "./errors.js";

/** Decoded chunks kept per index: random access walks a directory's entries chunk by chunk. */
const CACHED_CHUNKS = 8;

/** Downloads an index in a reader session and checks it against the manifest. */
export async function downloadDynamicIndex(
  reader: ReaderClient,
  manifest: Manifest,
  name: string,
): Promise<DynamicIndexReader> {
  const bytes = await reader.download(name);
  try {
    const index = DynamicIndexReader.parse(bytes);
    checkManifestFile(manifest, name, index.computeCsum());
    return index;
  } catch (err) {
    throw new ClientError(
      "tampered",
      `the index ${name} does not match the manifest: ${(err as Error).message}`,
      { name },
      { cause: err },
    );
  }
}

/** Reads byte ranges of an index's data, fetching (and keeping a few of) the chunks it covers. */
export function indexReadAt(
  reader: ReaderClient,
  index: DynamicIndexReader,
  name: string,
  crypt: CryptConfig | undefined,
): ReadAt {
  const cache = new Map<number, Promise<Buffer>>();
  const chunk = (i: number): Promise<Buffer> => {
    let data = cache.get(i);
    if (data === undefined) {
      data = fetchOne(reader, index, i, name, crypt).then((fetched) => fetched.data);
      data.catch(() => cache.delete(i));
      if (cache.size >= CACHED_CHUNKS) cache.delete(cache.keys().next().value!);
      cache.set(i, data);
    }
    return data;
  };
  return async (offset, length) => {
    const end = Math.min(offset + length, index.size);
    const parts: Buffer[] = [];
    for (let at = offset; at < end; ) {
      const i = index.chunkIndexAt(at)!;
      const range = index.chunkRange(i);
      const upTo = Math.min(end, range.end);
      parts.push((await chunk(i)).subarray(at - range.start, upTo - range.start));
      at = upTo;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  };
}

/**
 * Random access to a snapshot's split archive through a reader session: the `.mpxar` always,
 * file contents too when `withPayload` (else files have no content).
 */
export async function openSplitArchive(
  reader: ReaderClient,
  manifest: Manifest,
  names: SplitArchiveNames,
  crypt: CryptConfig | undefined,
  withPayload: boolean,
): Promise<PxarAccessor> {
  const metadata = await downloadDynamicIndex(reader, manifest, names.metadata);
  const readMetadata = indexReadAt(reader, metadata, names.metadata, crypt);
  if (!withPayload) return PxarAccessor.open(readMetadata, metadata.size);
  const payload = await downloadDynamicIndex(reader, manifest, names.payload);
  const readPayload = indexReadAt(reader, payload, names.payload, crypt);
  return PxarAccessor.open(readMetadata, metadata.size, {
    payload: { readAt: readPayload, size: payload.size },
  });
}
