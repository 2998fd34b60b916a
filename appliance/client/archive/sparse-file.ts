/**
 * Writes a restored file's bytes leaving holes: 4 KiB blocks (counted from the file's start)
 * that are all zeros are skipped, not written, so sparse files come back sparse. The file must
 * be new and empty, and the caller truncates it to its full size afterwards, which also makes
 * a trailing run of zeros a hole.
 */
import type { FileHandle } from "node:fs/promises";

export const SPARSE_BLOCK = 4096;
const ZERO_BLOCK = Buffer.alloc(SPARSE_BLOCK);

export interface SparseWriteResult {
  /** Bytes received from the content stream. */
  readonly size: number;
  /** Bytes actually written (the rest are holes). */
  readonly written: number;
}

export async function writeSparse(
  handle: FileHandle,
  content: AsyncIterable<Uint8Array>,
): Promise<SparseWriteResult> {
  let position = 0;
  let written = 0;
  for await (const piece of content) {
    let at = 0;
    while (at < piece.length) {
      const blockEnd = Math.min(piece.length, at + SPARSE_BLOCK - ((position + at) % SPARSE_BLOCK));
      if (isZero(piece, at, blockEnd)) {
        at = blockEnd;
        continue;
      }
      let runEnd = blockEnd;
      while (runEnd < piece.length) {
        const next = Math.min(piece.length, runEnd + SPARSE_BLOCK);
        if (isZero(piece, runEnd, next)) break;
        runEnd = next;
      }
      await writeAll(handle, piece, at, runEnd - at, position + at);
      written += runEnd - at;
      at = runEnd;
    }
    position += piece.length;
  }
  return { size: position, written };
}

function isZero(bytes: Uint8Array, start: number, end: number): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).equals(
    ZERO_BLOCK.subarray(0, end - start),
  );
}

async function writeAll(
  handle: FileHandle,
  bytes: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await handle.write(
      bytes,
      offset + done,
      length - done,
      position + done,
    );
    done += bytesWritten;
  }
}
