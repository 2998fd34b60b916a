import { createHash } from "node:crypto";
import { FIXED_CHUNK_SIZE } from "../format/fixed-chunker.js";
import { FixedIndexReader, fixedChunkCount } from "../format/fixed-index.js";
import { type CryptMode, findManifestFile, type Manifest } from "../format/manifest.js";
import { ChunkUploader } from "./chunk-uploader.js";
import type { DirtyBitmap } from "./dirty-bitmap.js";
import { ClientError } from "./errors.js";
import { type ImageSource, imageChunks, openImage, readImageRange } from "./image-source.js";
import { type IndexUploadOptions, type UploadedIndex, uploadIndex } from "./index-upload.js";
import { learnPreviousIndex } from "./previous-snapshot.js";

export interface ImageUploadOptions extends IndexUploadOptions {
  previous: Manifest | undefined;
  cryptMode: CryptMode;
  /** Chunks changed since the previous snapshot: only these are read (`--dirty-bitmap`). */
  dirtyBitmap?: DirtyBitmap;
  /** Where a warning goes (a dirty bitmap that cannot be used). */
  note: (line: string) => void;
}

export interface UploadedImage extends UploadedIndex {
  /** Bytes read from the image. */
  bytesRead: number;
}

/**
 * Backs up an image as a fixed index. With a dirty bitmap and a previous snapshot holding the
 * same archive at the same size, only the dirty chunks are read; otherwise the whole image is
 * read (with a warning when a bitmap was given), chunks known from the previous index not sent.
 */
export async function uploadImage(
  name: string,
  path: string,
  options: ImageUploadOptions,
): Promise<UploadedImage> {
  const image = await openImage(path);
  try {
    const { dirtyBitmap } = options;
    if (dirtyBitmap !== undefined) {
      const chunks = fixedChunkCount(image.size, FIXED_CHUNK_SIZE);
      if (dirtyBitmap.chunkCount !== chunks) {
        throw new ClientError(
          "bad-argument",
          `the dirty bitmap covers ${dirtyBitmap.chunkCount} chunks, but ${path} now has ${chunks}`,
          { path, bitmapChunks: dirtyBitmap.chunkCount, chunks },
        );
      }
      const base = incrementalBase(options.previous, name, options.cryptMode, image.size);
      if ("entry" in base) {
        const index = await previousImageIndex(name, base.entry.csum, options);
        return await uploadDirtyChunks(name, image, dirtyBitmap, index, options);
      }
      options.note(`warning: --dirty-bitmap not used for ${name}: ${base.reason}; reading it all`);
    }
    await learnPreviousIndex(
      options.writer,
      options.previous,
      name,
      options.cryptMode,
      options.known,
    );
    let bytesRead = 0;
    const chunks = imageChunks(image, FIXED_CHUNK_SIZE, (bytes) => {
      bytesRead += bytes;
    });
    const uploaded = await uploadIndex("fixed", name, chunks, { ...options, size: image.size });
    return { ...uploaded, bytesRead };
  } finally {
    await image.handle.close();
  }
}

/**
 * The previous snapshot's entry for the image when an incremental backup may build on it (PBS's
 * check_incremental: same archive, same crypt mode, same size), else why not.
 */
export function incrementalBase(
  previous: Manifest | undefined,
  name: string,
  cryptMode: CryptMode,
  size: number,
): { entry: { csum: string; size: number } } | { reason: string } {
  if (previous === undefined) return { reason: "there is no usable previous snapshot" };
  const entry = findManifestFile(previous, name);
  if (entry === undefined) return { reason: `the previous snapshot has no ${name}` };
  if (entry.cryptMode !== cryptMode) {
    return { reason: `the previous ${name} was stored ${entry.cryptMode}, now ${cryptMode}` };
  }
  if (entry.size !== size) {
    return { reason: `the image has ${size} bytes, the previous one had ${entry.size}` };
  }
  return { entry };
}

/**
 * Downloads the previous index (its chunks become known to the session) and checks it is the one
 * the manifest names: the server copies it into the new index on `reuse-csum`.
 */
async function previousImageIndex(
  name: string,
  csum: string,
  options: ImageUploadOptions,
): Promise<FixedIndexReader> {
  const index = FixedIndexReader.parse(await options.writer.previous(name));
  const actual = index.computeCsum().csum.toString("hex");
  if (actual !== csum) {
    throw new ClientError("tampered", `the previous ${name} does not match its manifest entry`, {
      archive: name,
      csum: actual,
      expected: csum,
    });
  }
  if (index.chunkSize !== FIXED_CHUNK_SIZE) {
    throw new ClientError(
      "unsupported",
      `the previous ${name} uses ${index.chunkSize}-byte chunks; --dirty-bitmap needs 4 MiB chunks`,
      { archive: name, chunkSize: index.chunkSize },
    );
  }
  for (let i = 0; i < index.count; i++) {
    const hex = index.digest(i).toString("hex");
    if (!options.known.has(hex)) options.known.set(hex, Promise.resolve());
  }
  return index;
}

/**
 * An incremental fixed index: the server starts it as a copy of `previous`, and only the dirty
 * chunks are read, sent (or appended as known) and written at their positions.
 */
async function uploadDirtyChunks(
  name: string,
  image: ImageSource,
  bitmap: DirtyBitmap,
  previous: FixedIndexReader,
  options: ImageUploadOptions,
): Promise<UploadedImage> {
  const { writer } = options;
  const reuseCsum = previous.computeCsum().csum.toString("hex");
  const wid = await writer.createFixedIndex(name, image.size, reuseCsum);
  const uploader = new ChunkUploader({
    writer,
    kind: "fixed",
    wid,
    known: options.known,
    ...(options.crypt && { crypt: options.crypt }),
    ...(options.onChunk && { onChunk: options.onChunk }),
  });
  const written = new Map<number, Buffer>();
  let bytesRead = 0;
  for (const chunk of bitmap.dirtyChunks()) {
    const start = chunk * FIXED_CHUNK_SIZE;
    const length = Math.min(FIXED_CHUNK_SIZE, image.size - start);
    const data = await readImageRange(image, start, length);
    bytesRead += length;
    written.set(chunk, await uploader.addAt(start, data));
  }
  const close = await uploader.finish();
  // the server checks the whole index, previous digests overlaid with the ones written now
  const csum = overlaidCsum(previous, written);
  await writer.closeIndex("fixed", wid, { ...close, csum });
  return { name, size: image.size, csum, stats: uploader.stats, bytesRead };
}

/** The fixed index checksum of `previous` with the digests at the positions in `written`. */
export function overlaidCsum(previous: FixedIndexReader, written: ReadonlyMap<number, Buffer>) {
  const hash = createHash("sha256");
  for (let i = 0; i < previous.count; i++) hash.update(written.get(i) ?? previous.digestView(i));
  return hash.digest();
}
