import type { CryptConfig } from "../format/crypt-config.js";
import type { BackupWriterClient } from "../protocol/client/backup-writer-client.js";
import type { IndexKind } from "../protocol/session-index.js";
import { ChunkUploader, type KnownChunks } from "./chunk-uploader.js";
import type { UploadStats } from "./upload-stats.js";

/** An index as the manifest lists it once closed. */
export interface UploadedIndex {
  name: string;
  size: number;
  csum: Buffer;
  stats: UploadStats;
}

export interface IndexUploadOptions {
  writer: BackupWriterClient;
  known: KnownChunks;
  crypt?: CryptConfig;
  onChunk?: (stats: UploadStats) => void;
}

/** A chunk the session already holds, appended by digest (re-used payload chunks). */
export interface KnownChunk {
  digest: Buffer;
  size: number;
}

/** Creates a writer, feeds it `chunks` through a ChunkUploader, and closes it. */
export async function uploadIndex(
  kind: IndexKind,
  name: string,
  chunks: AsyncIterable<Buffer | KnownChunk>,
  options: IndexUploadOptions & { size?: number },
): Promise<UploadedIndex> {
  const { writer } = options;
  const wid =
    kind === "fixed"
      ? await writer.createFixedIndex(name, options.size ?? 0)
      : await writer.createDynamicIndex(name);
  const uploader = new ChunkUploader({
    writer,
    kind,
    wid,
    known: options.known,
    ...(options.crypt && { crypt: options.crypt }),
    ...(options.onChunk && { onChunk: options.onChunk }),
  });
  for await (const chunk of chunks) {
    if (Buffer.isBuffer(chunk)) await uploader.add(chunk);
    else uploader.addKnown(chunk.digest, chunk.size);
  }
  const close = await uploader.finish();
  await writer.closeIndex(kind, wid, close);
  return { name, size: close.size, csum: close.csum as Buffer, stats: uploader.stats };
}
