import { readFile } from "node:fs/promises";
import { FIXED_CHUNK_SIZE } from "../format/fixed-chunker.js";
import type { ArchiveSpec } from "./archive-spec.js";
import { ClientError } from "./errors.js";
import { openImage } from "./image-source.js";

/**
 * Which 4 MiB chunks of an image changed since its previous backup, as `--dirty-bitmap` gives it:
 * a plain file of one bit per chunk, bit `i % 8` (least significant first) of byte `floor(i / 8)`
 * set when chunk `i` is dirty, exactly `ceil(chunks / 8)` bytes long with the unused bits of the
 * last byte clear. PBS gets the same map from QEMU; here any tool that tracks writes can make it.
 */
export class DirtyBitmap {
  private constructor(
    readonly chunkCount: number,
    readonly bits: Buffer,
  ) {}

  /** Parses the bitmap of an image of `imageSize` bytes; refuses any other length or stray bits. */
  static parse(bytes: Buffer, imageSize: number, source = "the dirty bitmap"): DirtyBitmap {
    const chunkCount = Math.ceil(imageSize / FIXED_CHUNK_SIZE);
    const expected = dirtyBitmapLength(imageSize);
    if (bytes.length !== expected) {
      throw new ClientError(
        "bad-argument",
        `${source} has ${bytes.length} bytes; an image of ${imageSize} bytes (${chunkCount} chunks of 4 MiB) needs exactly ${expected}`,
        { length: bytes.length, expected, imageSize },
      );
    }
    const bitmap = new DirtyBitmap(chunkCount, bytes);
    const stray = bitmap.#firstSetBitFrom(chunkCount);
    if (stray !== undefined) {
      throw new ClientError(
        "bad-argument",
        `${source} marks chunk ${stray}, but the image has only ${chunkCount} chunks`,
        { chunk: stray, chunkCount },
      );
    }
    return bitmap;
  }

  isDirty(chunk: number): boolean {
    return ((this.bits[chunk >> 3]! >> (chunk & 7)) & 1) === 1;
  }

  /** The dirty chunks' numbers, ascending. */
  *dirtyChunks(): Generator<number> {
    for (let chunk = 0; chunk < this.chunkCount; chunk++) if (this.isDirty(chunk)) yield chunk;
  }

  get dirtyCount(): number {
    let count = 0;
    for (const _ of this.dirtyChunks()) count++;
    return count;
  }

  #firstSetBitFrom(chunk: number): number | undefined {
    for (let bit = chunk; bit < this.bits.length * 8; bit++) if (this.isDirty(bit)) return bit;
    return undefined;
  }
}

/** Bytes of the bitmap for an image of `imageSize` bytes: one bit per 4 MiB chunk, rounded up. */
export function dirtyBitmapLength(imageSize: number): number {
  return Math.ceil(Math.ceil(imageSize / FIXED_CHUNK_SIZE) / 8);
}

/** Reads `--dirty-bitmap FILE` for an image of `imageSize` bytes. */
export async function readDirtyBitmap(path: string, imageSize: number): Promise<DirtyBitmap> {
  const bytes = await readFile(path).catch((err: Error) => {
    throw new ClientError(
      "io",
      `cannot read the dirty bitmap ${path}: ${err.message}`,
      { path },
      {
        cause: err,
      },
    );
  });
  return DirtyBitmap.parse(bytes, imageSize, `the dirty bitmap ${path}`);
}

/**
 * `--dirty-bitmap FILE` checked against the one image archive it belongs to, before the backup
 * connects: a bitmap of the wrong length is refused without touching the server.
 */
export async function dirtyBitmapForImage(
  specs: readonly ArchiveSpec[],
  path: string,
): Promise<DirtyBitmap> {
  const images = specs.filter((spec) => spec.kind === "img");
  if (images.length !== 1) {
    throw new ClientError(
      "bad-argument",
      `--dirty-bitmap needs exactly one LABEL.img archive, got ${images.length}`,
      { images: images.length },
    );
  }
  const image = await openImage(images[0]!.path);
  const size = image.size;
  await image.handle.close();
  return readDirtyBitmap(path, size);
}
