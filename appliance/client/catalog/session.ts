/**
 * The catalog commands' access to a snapshot: its catalog read whole, an archive's directory in
 * it, and `stat` through random access to the archive itself.
 */
import type { CatalogDirectory } from "../../format/catalog-reader.js";
import { CatalogReader } from "../../format/catalog-reader.js";
import { PxarAccessor } from "../../format/pxar/accessor.js";
import { archiveFileName } from "../archive-spec.js";
import { CATALOG_NAME } from "../catalog-upload.js";
import { ClientError } from "../errors.js";
import type { SnapshotReader } from "../snapshot-reader.js";
import { statLines } from "./entry-stat.js";

/** The snapshot's `catalog.pcat1.didx`, downloaded and opened. */
export async function loadCatalog(snapshot: SnapshotReader): Promise<CatalogReader> {
  if (!snapshot.manifest.files.some((file) => file.filename === CATALOG_NAME)) {
    throw new ClientError(
      "not-found",
      `snapshot ${snapshot.name} has no ${CATALOG_NAME} (only backups of directories made without --change-detection-mode have one)`,
      { snapshot: snapshot.name },
    );
  }
  return CatalogReader.fromBuffer(await snapshot.readWhole(CATALOG_NAME));
}

/** The catalog directory of an archive (`root.pxar` or `root.pxar.didx`). */
export async function archiveDirectory(
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

/** `stat` for the shell: opens the archive for random access on first use. */
export function archiveStat(
  snapshot: SnapshotReader,
  archive: string,
): (path: string) => Promise<string[]> {
  let accessor: Promise<PxarAccessor> | undefined;
  return async (path) => {
    accessor ??= snapshot
      .randomAccess(archive)
      .then(({ readAt, size }) => PxarAccessor.open(readAt, size));
    const pxar = await accessor;
    const entry = await pxar.lookup(path);
    if (entry === null) {
      throw new ClientError("not-found", `${path} is in the catalog but not in ${archive}`);
    }
    const target = entry.kind === "hardlink" ? await pxar.followHardlink(entry) : undefined;
    return statLines(entry, target);
  };
}
