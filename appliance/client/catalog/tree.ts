/**
 * The directory tree the catalog commands browse, whichever source it comes from: a snapshot's
 * catalog, or the `.mpxar` of a split archive (which has no catalog, as with PBS) read by random
 * access. Each directory lists its own children on demand.
 */
import type { CatalogEntry } from "../../format/catalog.js";
import type { CatalogDirectory, CatalogReader } from "../../format/catalog-reader.js";
import type { LocatedEntry, PxarAccessor } from "../../format/pxar/accessor.js";

export interface TreeDirectory {
  readonly kind: "directory";
  readonly name: Buffer;
  /** The children, in archive order (sorted by name). */
  list(): Promise<TreeEntry[]>;
}

/** Anything but a directory, with what the catalog keeps of it (size and mtime of files). */
export type TreeLeaf = Exclude<CatalogEntry, { kind: "directory" }>;

export type TreeEntry = TreeDirectory | TreeLeaf;

/** A directory of a catalog (an archive's, or the root listing the archives). */
export function catalogTree(catalog: CatalogReader, directory: CatalogDirectory): TreeDirectory {
  return {
    kind: "directory",
    name: directory.name,
    list: async () =>
      (await catalog.readDirectory(directory)).map((entry) =>
        entry.kind === "directory" ? catalogTree(catalog, entry) : entry,
      ),
  };
}

/** A directory of a pxar archive; `name` names the root (the archive's file name). */
export function pxarTree(
  accessor: PxarAccessor,
  directory: LocatedEntry,
  name: Buffer = directory.name,
): TreeDirectory {
  return {
    kind: "directory",
    name,
    list: async () =>
      (await accessor.list(directory)).map((entry) => pxarTreeEntry(accessor, entry)),
  };
}

function pxarTreeEntry(accessor: PxarAccessor, entry: LocatedEntry): TreeEntry {
  switch (entry.kind) {
    case "directory":
      return pxarTree(accessor, entry);
    case "file":
      return {
        kind: "file",
        name: entry.name,
        size: entry.size,
        mtime: entry.metadata.stat.mtime.secs,
      };
    default:
      return { kind: entry.kind, name: entry.name };
  }
}
