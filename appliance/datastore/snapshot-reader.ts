import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { findManifestFile, type Manifest } from "../format/manifest.js";
import type { Datastore } from "./datastore.js";
import { DatastoreError, isMissing } from "./errors.js";
import type { HeldLock } from "./locks.js";
import { CLIENT_LOG_BLOB_NAME, MANIFEST_BLOB_NAME, readManifestFile } from "./manifest-file.js";
import { validateArchiveName } from "./names.js";
import { type SnapshotRef, showSnapshot, snapshotRefPath } from "./snapshots.js";

/**
 * A finished snapshot opened for reading (restore, download, sync source). It holds a shared
 * snapshot lock until close(), so the snapshot cannot be pruned or forgotten under a reader.
 */
export class SnapshotReader {
  readonly dir: string;
  #lock: HeldLock | undefined;

  private constructor(
    readonly datastore: Datastore,
    readonly ref: SnapshotRef,
    readonly manifest: Manifest,
    lock: HeldLock,
  ) {
    this.dir = datastore.snapshotDir(ref);
    this.#lock = lock;
  }

  /** Takes the shared lock (non-blocking) and loads the manifest; an unfinished snapshot is refused. */
  static async open(datastore: Datastore, ref: SnapshotRef): Promise<SnapshotReader> {
    const lock = await datastore.lockSnapshot(ref, "shared", "read the snapshot");
    try {
      const manifest = await readManifestFile(datastore.snapshotDir(ref));
      return new SnapshotReader(datastore, ref, manifest, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#lock === undefined;
  }

  /**
   * The bytes of one file: a file the manifest lists, the manifest itself, or the client log.
   * The name must be a plain archive name, so it can never leave the snapshot directory.
   */
  async readFile(name: string): Promise<Buffer> {
    const filename = validateArchiveName(name);
    if (this.#lock === undefined) {
      throw new DatastoreError("bad-state", `reader of ${showSnapshot(this.ref)} is closed`, {
        snapshot: snapshotRefPath(this.ref),
      });
    }
    const known =
      filename === MANIFEST_BLOB_NAME ||
      filename === CLIENT_LOG_BLOB_NAME ||
      findManifestFile(this.manifest, filename) !== undefined;
    if (!known) throw this.#notFound(filename);
    try {
      return await readFile(join(this.dir, filename));
    } catch (err) {
      if (isMissing(err)) throw this.#notFound(filename);
      throw err;
    }
  }

  /** The encoded chunk from the chunk store. */
  readChunk(digest: string): Promise<Buffer> {
    return this.datastore.chunks.read(digest);
  }

  close(): void {
    this.#lock?.release();
    this.#lock = undefined;
  }

  #notFound(filename: string) {
    return new DatastoreError(
      "not-found",
      `snapshot ${showSnapshot(this.ref)} has no file ${filename}`,
      {
        snapshot: snapshotRefPath(this.ref),
        filename,
      },
    );
  }
}
