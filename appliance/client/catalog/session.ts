/**
 * The catalog commands' access to a snapshot: an archive's tree from the catalog, or from the
 * `.mpxar` of a split archive (which has no catalog entry, as with PBS), and `stat` through
 * random access to the archive itself.
 */
import type { CatalogDirectory } from "../../format/catalog-reader.js";
import { CatalogReader } from "../../format/catalog-reader.js";
import { PxarAccessor } from "../../format/pxar/accessor.js";
import { archiveFileName } from "../archive-spec.js";
import { CATALOG_NAME } from "../catalog-upload.js";
import { splitArchiveNames } from "../change-detection.js";
import { ClientError } from "../errors.js";
import type { SnapshotReader } from "../snapshot-reader.js";
import { dumpArchive, dumpBelow } from "./dump.js";
import { statLines } from "./entry-stat.js";
import { catalogTree, pxarTree, type TreeDirectory } from "./tree.js";

const METADATA_SUFFIX = ".mpxar.didx";

/** An archive as the catalog commands browse it. */
export interface BrowsedArchive {
  /** Its root, named with the archive's file name (`root.pxar.didx`). */
  readonly tree: TreeDirectory;
  /** The `stat` lines of the entry at an archive path. */
  stat(path: string): Promise<string[]>;
}

/** `root.pxar` (or `root.pxar.didx`): from its `.mpxar` when stored split, else the catalog. */
export async function openArchive(
  snapshot: SnapshotReader,
  archive: string,
): Promise<BrowsedArchive> {
  const name = archiveFileName(archive);
  const metadata = splitArchiveNames(name).metadata;
  if (hasFile(snapshot, metadata)) {
    const accessor = await openPxar(snapshot, metadata);
    const tree = pxarTree(accessor, accessor.root(), Buffer.from(name));
    return { tree, stat: accessorStat(async () => accessor, name) };
  }
  // without a catalog the manifest lists what there is: its not-found error says so
  if (!hasFile(snapshot, CATALOG_NAME)) snapshot.file(name);
  const catalog = await loadCatalog(snapshot);
  const tree = catalogTree(catalog, await archiveDirectory(catalog, name, snapshot.name));
  return { tree, stat: accessorStat(() => openPxar(snapshot, name), name) };
}

/** `catalog dump` of one archive, or of all: those in the catalog, else the split ones. */
export async function* dumpSnapshot(
  snapshot: SnapshotReader,
  archive?: string,
): AsyncGenerator<string> {
  if (archive !== undefined) {
    yield* dumpArchive((await openArchive(snapshot, archive)).tree);
    return;
  }
  const split = snapshot.manifest.files
    .map((file) => file.filename)
    .filter((filename) => filename.endsWith(METADATA_SUFFIX));
  if (hasFile(snapshot, CATALOG_NAME) || split.length === 0) {
    const catalog = await loadCatalog(snapshot);
    yield* dumpBelow(catalogTree(catalog, catalog.root));
    return;
  }
  for (const metadata of split) {
    const pxarName = `${metadata.slice(0, -METADATA_SUFFIX.length)}.pxar`;
    yield* dumpArchive((await openArchive(snapshot, pxarName)).tree);
  }
}

/** The snapshot's `catalog.pcat1.didx`, downloaded and opened. */
async function loadCatalog(snapshot: SnapshotReader): Promise<CatalogReader> {
  if (!hasFile(snapshot, CATALOG_NAME)) {
    throw new ClientError(
      "not-found",
      `snapshot ${snapshot.name} has no ${CATALOG_NAME} and no split archive (.mpxar.didx) to browse`,
      { snapshot: snapshot.name },
    );
  }
  return CatalogReader.fromBuffer(await snapshot.readWhole(CATALOG_NAME));
}

/** The catalog directory of an archive (`root.pxar` or `root.pxar.didx`). */
async function archiveDirectory(
  catalog: CatalogReader,
  archive: string,
  snapshotName: string,
): Promise<CatalogDirectory> {
  const name = archiveFileName(archive);
  const entry = await catalog.lookup(`/${name}`);
  if (entry?.kind === "directory") return entry;
  const names = (await catalog.readDirectory(catalog.root)).map((each) => each.name.toString());
  throw new ClientError(
    "not-found",
    `the catalog of ${snapshotName} has no archive ${name} (it has ${names.join(", ") || "none"})`,
    { snapshot: snapshotName, archive: name },
  );
}

/** `stat` for the shell: opens the archive on first use (a catalog session may never stat). */
function accessorStat(
  open: () => Promise<PxarAccessor>,
  archive: string,
): (path: string) => Promise<string[]> {
  let accessor: Promise<PxarAccessor> | undefined;
  return async (path) => {
    accessor ??= open();
    const pxar = await accessor;
    const entry = await pxar.lookup(path);
    if (entry === null) {
      throw new ClientError("not-found", `${path} is in the catalog but not in ${archive}`);
    }
    const target = entry.kind === "hardlink" ? await pxar.followHardlink(entry) : undefined;
    return statLines(entry, target);
  };
}

/** Random access to an archive stream: only the chunks a read touches are fetched. */
async function openPxar(snapshot: SnapshotReader, archive: string): Promise<PxarAccessor> {
  const { readAt, size } = await snapshot.randomAccess(archive);
  return PxarAccessor.open(readAt, size);
}

function hasFile(snapshot: SnapshotReader, filename: string): boolean {
  return snapshot.manifest.files.some((file) => file.filename === filename);
}
