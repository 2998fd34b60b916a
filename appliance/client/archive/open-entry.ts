/** How the walk opens an entry it archives (entry-reads.c's open_entry does the same). */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { errnoCode } from "./errors.js";

/** Opens without following symlinks, blocking on a FIFO swapped in, or touching the atime. */
export async function openEntry(absolute: Buffer, flags: number): Promise<FileHandle> {
  const base = flags | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
  try {
    return await open(absolute, base | constants.O_NOATIME);
  } catch (error) {
    // O_NOATIME is only allowed to the file's owner (or with CAP_FOWNER)
    if (errnoCode(error) !== "EPERM") throw error;
    return await open(absolute, base);
  }
}
