import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeBlob, encodeBlob } from "../format/blob.js";
import { type Manifest, manifestToJson, parseManifest } from "../format/manifest.js";
import { writeFileAtomic } from "./atomic-file.js";
import { DatastoreError, isMissing } from "./errors.js";
import type { LockDirectory } from "./locks.js";

/**
 * `index.json.blob`, the manifest of a snapshot (pbs-formats.md §4): a compressed, unencrypted
 * blob of pretty JSON. Its presence is what makes a snapshot finished; every change after that
 * (notes, verify state) is a read-modify-write under the manifest lock.
 */

export const MANIFEST_BLOB_NAME = "index.json.blob";
/** Uploaded after the backup through the admin API, never listed in the manifest. */
export const CLIENT_LOG_BLOB_NAME = "client.log.blob";
/** PBS waits up to 5 s for the manifest lock. */
export const MANIFEST_LOCK_TIMEOUT_MS = 5000;

/** The lock name of a snapshot's manifest; `snapshot` is its path relative to the datastore. */
export function manifestLockName(snapshot: string): string {
  return `manifest of snapshot ${snapshot}`;
}

export function encodeManifestBlob(manifest: Manifest): Buffer {
  return encodeBlob(Buffer.from(manifestToJson(manifest)), { compress: true });
}

/** Decodes the blob (CRC checked; an encrypted one is refused) and parses the JSON. */
export function decodeManifestBlob(encoded: Uint8Array): Manifest {
  return parseManifest(decodeBlob(encoded));
}

/** The manifest of the snapshot directory `dir`; DatastoreError "not-found" when it has none. */
export async function readManifestFile(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_BLOB_NAME);
  let encoded: Buffer;
  try {
    encoded = await readFile(path);
  } catch (err) {
    if (isMissing(err)) {
      throw new DatastoreError(
        "not-found",
        `${path} does not exist: the snapshot is not finished`,
        {
          path,
        },
      );
    }
    throw err;
  }
  return decodeManifestBlob(encoded);
}

/** Replaces the manifest atomically: a crash leaves the old one or the new one. */
export async function writeManifestFile(
  dir: string,
  manifest: Manifest,
  options: { fsync: boolean },
): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_BLOB_NAME), encodeManifestBlob(manifest), options);
}

export interface ManifestLocation {
  locks: LockDirectory;
  /** The snapshot directory, absolute. */
  dir: string;
  /** The snapshot path relative to the datastore, which names the lock. */
  snapshot: string;
  fsync: boolean;
}

/**
 * Reads, changes and rewrites the manifest while holding its lock (exclusive, waiting up to 5 s),
 * so concurrent updates (notes, verify state) never lose each other's change. Returns what was
 * written.
 */
export async function updateManifestFile(
  location: ManifestLocation,
  update: (manifest: Manifest) => Manifest,
): Promise<Manifest> {
  const lock = await location.locks.acquire(manifestLockName(location.snapshot), "exclusive", {
    timeoutMs: MANIFEST_LOCK_TIMEOUT_MS,
    purpose: "update the manifest",
  });
  try {
    const updated = update(await readManifestFile(location.dir));
    await writeManifestFile(location.dir, updated, { fsync: location.fsync });
    return updated;
  } finally {
    lock.release();
  }
}
