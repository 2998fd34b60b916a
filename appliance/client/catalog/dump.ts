/**
 * `catalog dump`: every entry of a tree, one line each, as the PBS client prints them: the
 * type letter and the quoted path, for files also the size and the mtime (UTC here; PBS prints
 * local time with a "Z").
 */
import { CATALOG_TYPE_BYTE } from "../../format/catalog.js";
import type { TreeDirectory, TreeEntry } from "./tree.js";

/** `f "/root.pxar.didx/etc/hosts" 183 2023-11-14T22:13:20Z`. */
export function dumpLine(path: string, entry: TreeEntry): string {
  const head = `${typeLetter(entry)} ${JSON.stringify(path)}`;
  return entry.kind === "file" ? `${head} ${entry.size} ${formatMtime(entry.mtime)}` : head;
}

/** The lines of an archive's tree: its own (`d "/root.pxar.didx"`), then all below it. */
export async function* dumpArchive(archive: TreeDirectory): AsyncGenerator<string> {
  const path = `/${archive.name.toString("utf8")}`;
  yield dumpLine(path, archive);
  yield* dumpBelow(archive, path);
}

/** The lines of everything below `directory`, depth first, paths starting with `prefix`. */
export async function* dumpBelow(directory: TreeDirectory, prefix = ""): AsyncGenerator<string> {
  for (const entry of await directory.list()) {
    const path = `${prefix}/${entry.name.toString("utf8")}`;
    yield dumpLine(path, entry);
    if (entry.kind === "directory") yield* dumpBelow(entry, path);
  }
}

export function typeLetter(entry: TreeEntry): string {
  return String.fromCharCode(CATALOG_TYPE_BYTE[entry.kind]);
}

/** Seconds since the epoch as `2023-11-14T22:13:20Z`; the number itself when out of range. */
export function formatMtime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : `${date.toISOString().slice(0, 19)}Z`;
}
