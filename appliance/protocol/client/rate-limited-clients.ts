/**
 * Rate limits as wrappers around the protocol clients, so the code that uploads or downloads stays
 * unaware of them: the client's `--rate` and a push sync's rate-out pace uploads through these.
 */
import type { TokenBucket } from "../../util/token-bucket.js";
import type { BackupWriterClient } from "./backup-writer-client.js";
import type { ReaderClient } from "./reader-client.js";

/** The writer with chunk and blob uploads charged to `bucket`; unchanged without one. */
export function limitUploads(
  writer: BackupWriterClient,
  bucket: TokenBucket | undefined,
  signal?: AbortSignal,
): BackupWriterClient {
  if (bucket === undefined) return writer;
  return wrap(writer, {
    uploadChunk: async (kind, wid, chunk) => {
      await bucket.take(chunk.encoded.length, signal);
      return writer.uploadChunk(kind, wid, chunk);
    },
    uploadBlob: async (name, encoded) => {
      await bucket.take(encoded.length, signal);
      return writer.uploadBlob(name, encoded);
    },
  });
}

/** The reader with chunk and file downloads charged to `bucket`; unchanged without one. */
export function limitDownloads(
  reader: ReaderClient,
  bucket: TokenBucket | undefined,
): ReaderClient {
  if (bucket === undefined) return reader;
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
