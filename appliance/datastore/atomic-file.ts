import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** fsync the file before the rename and the directory after it. */
  fsync?: boolean;
  /** File mode of the new file (default 0o644). */
  mode?: number;
}

/** A temp name beside `path` that no reader looks for: `<name>.tmp_<random>`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.tmp_${randomBytes(6).toString("hex")}`);
}

/**
 * Replaces `path` with `data` so that a crash at any point leaves either the old file or the new one:
 * write a temp file in the same directory, optionally fsync, rename over the target.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = tempPathFor(path);
  const handle = await open(temp, "wx", options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    if (options.fsync) await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw err;
  }
  await handle.close();
  await renameDurably(temp, path, options.fsync ?? false);
}

/** Renames `from` to `to`; with `fsync`, also syncs the directory so the rename itself survives. */
export async function renameDurably(from: string, to: string, fsync: boolean): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    await unlink(from).catch(() => {});
    throw err;
  }
  if (fsync) await fsyncDirectory(dirname(to));
}

/** Makes the entries of a directory (creations, renames, removals) durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
