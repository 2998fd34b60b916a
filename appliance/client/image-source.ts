import { type FileHandle, open, readFile } from "node:fs/promises";
import { FIXED_CHUNK_SIZE } from "../format/fixed-chunker.js";
import { ClientError } from "./errors.js";

/** An image to back up: a regular file or a block device, and its size. */
export interface ImageSource {
  handle: FileHandle;
  size: number;
}

export async function openImage(path: string): Promise<ImageSource> {
  const handle = await open(path, "r").catch((err: Error) => {
    throw new ClientError("io", `cannot open ${path}: ${err.message}`, { path }, { cause: err });
  });
  try {
    const stat = await handle.stat({ bigint: true });
    if (stat.isFile()) return { handle, size: Number(stat.size) };
    if (stat.isBlockDevice()) return { handle, size: await blockDeviceSize(stat.rdev) };
    throw new ClientError("bad-argument", `${path} is neither a regular file nor a block device`);
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Sysfs gives a block device's size in 512-byte sectors. */
async function blockDeviceSize(rdev: bigint): Promise<number> {
  const major = Number((rdev >> 8n) & 0xfffn) | Number((rdev >> 32n) & ~0xfffn);
  const minor = Number(rdev & 0xffn) | Number((rdev >> 12n) & ~0xffn);
  const sectors = await readFile(`/sys/dev/block/${major}:${minor}/size`, "utf8");
  return Number(sectors.trim()) * 512;
}

/**
 * The image in fixed 4 MiB chunks (the last one shorter), each read into a fresh buffer. A file
 * that shrinks while read is an error: the index would not match the declared size.
 */
export async function* imageChunks(
  source: ImageSource,
  chunkSize = FIXED_CHUNK_SIZE,
  onRead?: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  for (let position = 0; position < source.size; position += chunkSize) {
    const length = Math.min(chunkSize, source.size - position);
    const chunk = await readImageRange(source, position, length);
    onRead?.(length);
    yield chunk;
  }
}

/** `length` bytes of the image from `position` into a fresh buffer; a short read is an error. */
export async function readImageRange(
  source: ImageSource,
  position: number,
  length: number,
): Promise<Buffer> {
  const chunk = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await source.handle.read(
      chunk,
      filled,
      length - filled,
      position + filled,
    );
    if (bytesRead === 0) {
      throw new ClientError(
        "io",
        `the image shrank while being read (at byte ${position + filled})`,
      );
    }
    filled += bytesRead;
  }
  return chunk;
}
