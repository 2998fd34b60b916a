import { once } from "node:events";
import { open } from "node:fs/promises";
import type { Writable } from "node:stream";
import { writeSparse } from "./archive/sparse-file.js";
import { ClientError } from "./errors.js";

/** Writes a stream to a writable (stdout), honouring backpressure. */
export async function writeToStream(
  content: AsyncIterable<Buffer>,
  out: Writable,
): Promise<number> {
  let written = 0;
  for await (const piece of content) {
    written += piece.length;
    if (!out.write(piece)) await once(out, "drain");
  }
  return written;
}

/**
 * Writes an image of `size` bytes to `path`: a new or existing regular file is rewritten with holes
 * where the data is zero; a block device is written whole, since its old blocks are not zero.
 */
export async function writeImage(
  path: string,
  size: number,
  content: AsyncIterable<Buffer>,
): Promise<number> {
  const handle = await open(path, "w").catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== "EISDIR") throw err;
    throw new ClientError(
      "bad-argument",
      `restore target ${path} is a directory, not a file or device`,
    );
  });
  try {
    const stat = await handle.stat();
    if (stat.isBlockDevice()) {
      let written = 0;
      for await (const piece of content) {
        let at = 0;
        while (at < piece.length) {
          const { bytesWritten } = await handle.write(piece, at, piece.length - at, written + at);
          at += bytesWritten;
        }
        written += piece.length;
      }
      return written;
    }
    const { written } = await writeSparse(handle, content);
    await handle.truncate(size);
    return written;
  } finally {
    await handle.close();
  }
}
