/**
 * `catalog dump`: every entry of a catalog, one line each, as the PBS client prints them: the
 * type letter and the quoted path, for files also the size and the mtime (UTC here; PBS prints
 * local time with a "Z").
 */
import { CATALOG_TYPE_BYTE, type CatalogEntry } from "../../format/catalog.js";
import type { CatalogDirectory, CatalogReader } from "../../format/catalog-reader.js";

/** `f "/root.pxar.didx/etc/hosts" 183 2023-11-14T22:13:20Z`. */
export function dumpLine(path: string, entry: CatalogEntry): string {
  const head = `${typeLetter(entry)} ${JSON.stringify(path)}`;
  return entry.kind === "file" ? `${head} ${entry.size} ${formatMtime(entry.mtime)}` : head;
}

/** The lines of the whole catalog, or of one archive's tree (`root.pxar.didx`). */
export async function* dumpCatalog(
  catalog: CatalogReader,
  archive?: CatalogDirectory,
): AsyncGenerator<string> {
  const entries =
    archive === undefined
      ? catalog.walk()
      : catalog.walk(archive, `/${archive.name.toString("utf8")}`);
  if (archive !== undefined) yield dumpLine(`/${archive.name.toString("utf8")}`, archive);
  for await (const { path, entry } of entries) yield dumpLine(path, entry);
}

export function typeLetter(entry: CatalogEntry): string {
  return String.fromCharCode(CATALOG_TYPE_BYTE[entry.kind]);
}

/** Seconds since the epoch as `2023-11-14T22:13:20Z`; the number itself when out of range. */
export function formatMtime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : `${date.toISOString().slice(0, 19)}Z`;
}
