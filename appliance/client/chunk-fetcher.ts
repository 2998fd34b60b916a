import { decodeChunk } from "../format/chunk.js";
import type { CryptConfig } from "../format/crypt-config.js";
import type { IndexReader } from "../format/index-file.js";
import type { ReaderClient } from "../protocol/client/reader-client.js";
import { ClientError } from "./errors.js";

export interface FetchedChunk {
  index: number;
  start: number;
  data: Buffer;
}

export interface FetchOptions {
  crypt?: CryptConfig;
  /** Downloads in flight at most. */
  prefetch?: number;
  /** Only these chunks (in order); default all. */
  select?: (index: number) => boolean;
}

/**
 * The chunks of a downloaded index in order, fetched `prefetch` ahead, each decoded (CRC,
 * decryption, decompression) and checked against the digest the index names.
 */
export async function* fetchChunks(
  reader: ReaderClient,
  index: IndexReader,
  archive: string,
  options: FetchOptions = {},
): AsyncGenerator<FetchedChunk> {
  const prefetch = options.prefetch ?? 8;
  const pending: Promise<FetchedChunk>[] = [];
  let next = 0;
  const schedule = () => {
    while (pending.length < prefetch && next < index.count) {
      const i = next++;
      if (options.select && !options.select(i)) continue;
      const fetched = fetchOne(reader, index, i, archive, options.crypt);
      fetched.catch(() => {}); // reported when its turn comes
      pending.push(fetched);
    }
  };
  schedule();
  while (pending.length > 0) {
    const chunk = await pending.shift()!;
    schedule();
    yield chunk;
  }
}

/** One chunk of a downloaded index, decoded and checked against its digest. */
export async function fetchOne(
  reader: ReaderClient,
  index: IndexReader,
  i: number,
  archive: string,
  crypt: CryptConfig | undefined,
): Promise<FetchedChunk> {
  const digest = index.digest(i);
  const { start, end } = index.chunkRange(i);
  const encoded = await reader.chunk(digest);
  try {
    return {
      index: i,
      start,
      data: decodeChunk(encoded, digest, { size: end - start, ...(crypt && { crypt }) }),
    };
  } catch (err) {
    const hex = digest.toString("hex");
    throw new ClientError(
      "tampered",
      `chunk ${hex} (#${i} of ${archive}) is damaged or was not made with this key: ${(err as Error).message}`,
      { digest: hex, archive, index: i },
      { cause: err },
    );
  }
}
