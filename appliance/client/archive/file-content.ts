/**
 * A regular file's bytes for the encoder, read in large pieces from an open handle, always
 * exactly the size recorded when the file was listed, so that the archive stays valid when the
 * file changes underneath (the PBS archiver's rule): a file that grew is cut at that size, one
 * that shrank or failed to read is padded with zeros. Each case is reported once.
 */
import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { openEntry } from "./open-entry.js";

export interface FileReadEvents {
  /** Bytes actually read from the file. */
  read(bytes: number): void;
  /** The file has more bytes than recorded; they are left out. */
  grew(size: number): void;
  /** The file ended after `readable` of `size` bytes; the rest is zeros. */
  shrank(readable: number, size: number): void;
  /** Reading failed at `offset`; the rest is zeros. */
  failed(offset: number, error: unknown): void;
}

/** The PBS client copies files through a 4 MiB buffer. */
export const DEFAULT_READ_SIZE = 4 * 1024 * 1024;

let zeros: Buffer = Buffer.alloc(0);

/** A shared all-zero piece; safe to hand out repeatedly as nothing ever writes to it. */
function zeroPiece(length: number): Buffer {
  if (zeros.length < length) zeros = Buffer.alloc(length);
  return zeros.subarray(0, length);
}

export async function* fileContent(
  handle: FileHandle,
  size: number,
  readSize: number,
  events: FileReadEvents,
): AsyncGenerator<Buffer> {
  let position = 0;
  while (position < size) {
    const want = Math.min(readSize, size - position);
    // a fresh buffer per read: the encoder's sink may keep the pieces it is given
    const buffer = Buffer.allocUnsafe(want);
    let got: number;
    try {
      ({ bytesRead: got } = await handle.read(buffer, 0, want, position));
    } catch (error) {
      events.failed(position, error);
      break;
    }
    if (got === 0) {
      events.shrank(position, size);
      break;
    }
    events.read(got);
    position += got;
    yield buffer.subarray(0, got);
  }
  if (position === size) {
    if (await hasByteAt(handle, size)) events.grew(size);
    return;
  }
  yield* zeroPieces(size - position, readSize);
}

/** The path no longer names a regular file when its content is to be read. */
export class NoLongerRegularFile extends Error {
  override name = "NoLongerRegularFile";

  constructor(readonly path: string) {
    super(`${path} is no longer a regular file`);
  }
}

/**
 * As fileContent, but the file at `path` is opened only once its content is asked for (never,
 * for an unchanged file a split archive re-uses) and closed when the content ends or is left.
 * A file that cannot be opened again, or is no longer a regular file, reads as zeros.
 */
export async function* fileContentAt(
  path: Buffer,
  size: number,
  readSize: number,
  events: FileReadEvents,
): AsyncGenerator<Buffer> {
  let handle: FileHandle;
  try {
    handle = await openEntry(path, constants.O_RDONLY);
  } catch (error) {
    events.failed(0, error);
    yield* zeroPieces(size, readSize);
    return;
  }
  try {
    if ((await handle.stat()).isFile()) {
      yield* fileContent(handle, size, readSize, events);
    } else {
      events.failed(0, new NoLongerRegularFile(path.toString()));
      yield* zeroPieces(size, readSize);
    }
  } finally {
    await handle.close();
  }
}

function* zeroPieces(size: number, readSize: number): Generator<Buffer> {
  for (let position = 0; position < size; ) {
    const piece = zeroPiece(Math.min(readSize, size - position));
    position += piece.length;
    yield piece;
  }
}

async function hasByteAt(handle: FileHandle, offset: number): Promise<boolean> {
  try {
    const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, offset);
    return bytesRead > 0;
  } catch {
    return false;
  }
}
