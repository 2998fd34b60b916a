import { createHash } from "node:crypto";
import { type FileHandle, mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { MAX_UPLOADED_BLOB_SIZE, verifyBlobCrc } from "../format/blob.js";
import { DynamicIndexReader, DynamicIndexWriter } from "../format/dynamic-index.js";
import { FormatError } from "../format/errors.js";
import {
  DEFAULT_FIXED_CHUNK_SIZE,
  FixedIndexReader,
  FixedIndexWriter,
} from "../format/fixed-index.js";
import type { IndexCloseResult, PositionalWriter } from "../format/index-file.js";
import { findManifestFile, type Manifest } from "../format/manifest.js";
import { fsyncDirectory, writeFileAtomic } from "./atomic-file.js";
import type { InsertResult } from "./chunk-store.js";
import type { Datastore } from "./datastore.js";
import { badName, DatastoreError } from "./errors.js";
import type { HeldLock } from "./locks.js";
import {
  decodeManifestBlob,
  MANIFEST_BLOB_NAME,
  readManifestFile,
  writeManifestFile,
} from "./manifest-file.js";
import {
  type BackupType,
  formatSnapshotTime,
  groupPath,
  type Namespace,
  ROOT_NAMESPACE,
  validateArchiveName,
  validateBackupId,
  validateBackupTime,
  validateBackupType,
  validateNamespace,
} from "./names.js";
import { ownerMatches, validateOwner } from "./owner.js";
import { type IndexFileHooks, SnapshotIndexFile } from "./snapshot-index-file.js";
import {
  hasManifest,
  listSnapshotTimes,
  readVerifyState,
  type SnapshotRef,
  showSnapshot,
  snapshotRefPath,
} from "./snapshots.js";
import type { RegisteredWriter } from "./writer-registry.js";

export interface BeginBackupOptions {
  /** Default: the root namespace, which always exists; any other must exist already. */
  ns?: Namespace;
  type: BackupType;
  id: string;
  /** Backup time, epoch seconds; must be newer than the group's newest finished snapshot. */
  time: number;
  /** The auth id doing the backup: owner of a new group, and must own an existing one. */
  owner: string;
}

/** `unprotected.chunk_upload_stats` as PBS records it at finish (snake_case). */
export interface ChunkUploadStats {
  count: number;
  size: number;
  compressed_size: number;
  duplicates: number;
}

/** The newest finished snapshot of the group, which a backup may reuse chunks and indexes from. */
export interface PreviousSnapshot {
  ref: SnapshotRef;
  manifest: Manifest;
}

interface WrittenFile {
  size: number;
  csum: string;
  /** Blobs only: what their magic says. */
  cryptMode?: "none" | "encrypt";
}

/**
 * One backup in progress, from the group lock to the manifest (README "Locks" and "Why GC cannot
 * remove a chunk a backup needs"). While it runs it holds the exclusive group lock, the exclusive
 * lock of the new snapshot, a shared lock on the previous snapshot and a writer registration.
 * finish() writes the manifest last, which is the moment the snapshot becomes visible as
 * finished; finish() or abort() releases everything, and so does the kernel if the process dies.
 */
export class SnapshotWriter {
  readonly dir: string;
  #state: "open" | "finishing" | "finished" | "aborted" = "open";
  readonly #locks: HeldLock[];
  readonly #registration: RegisteredWriter;
  readonly #previous: PreviousSnapshot | undefined;
  readonly #openIndexes = new Map<
    string,
    SnapshotIndexFile<FixedIndexWriter | DynamicIndexWriter>
  >();
  readonly #written = new Map<string, WrittenFile>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #stats: ChunkUploadStats = { count: 0, size: 0, compressed_size: 0, duplicates: 0 };
  readonly #hooks: IndexFileHooks;

  private constructor(
    readonly datastore: Datastore,
    readonly ref: SnapshotRef,
    locks: HeldLock[],
    registration: RegisteredWriter,
    previous: PreviousSnapshot | undefined,
  ) {
    this.dir = datastore.snapshotDir(ref);
    this.#locks = locks;
    this.#registration = registration;
    this.#previous = previous;
    this.#hooks = {
      syncLevel: datastore.syncLevel,
      closed: (name: string, result: IndexCloseResult) => {
        this.#openIndexes.delete(name);
        this.#written.set(name, { size: result.size, csum: result.csum.toString("hex") });
      },
      dropped: (name: string) => {
        this.#openIndexes.delete(name);
        this.#written.delete(name);
      },
    };
  }

  /**
   * Starts a backup: group lock (busy → error), group created with its owner if new, owner
   * checked, stale unfinished snapshots removed, time checked against the newest finished
   * snapshot, snapshot lock, shared lock on the previous snapshot, writer registration, and
   * finally the snapshot directory.
   */
  static async begin(datastore: Datastore, options: BeginBackupOptions): Promise<SnapshotWriter> {
    const ref: SnapshotRef = {
      ns: validateNamespace(options.ns ?? ROOT_NAMESPACE),
      type: validateBackupType(options.type),
      id: validateBackupId(options.id),
      time: validateBackupTime(options.time),
    };
    const owner = validateOwner(options.owner);
    const { ns, type, id } = ref;
    const group = groupPath(ns, type, id);
    const locks: HeldLock[] = [];
    let registration: RegisteredWriter | undefined;
    try {
      locks.push(await datastore.lockGroup(ns, type, id, "start a backup"));
      const recorded = await datastore.ensureGroup(ns, type, id, owner);
      if (!ownerMatches(recorded.owner, owner)) {
        throw new DatastoreError(
          "owner-mismatch",
          `${owner} may not back up into ${group}: it belongs to ${recorded.owner}`,
          { group, owner: recorded.owner, authId: owner },
        );
      }
      await datastore.cleanupStaleSnapshots(ns, type, id);
      const newest = await newestFinishedTime(datastore.groupDir(ns, type, id));
      if (newest !== undefined && ref.time <= newest) {
        throw new DatastoreError(
          "not-newer",
          `backup time ${snapshotRefPath(ref)} is not newer than the last backup ${snapshotRefPath({ ...ref, time: newest })}`,
          { group, time: ref.time, newest },
        );
      }
      locks.push(await datastore.lockSnapshot(ref, "exclusive", "write the backup"));
      let previous: PreviousSnapshot | undefined;
      if (newest !== undefined) {
        const previousRef = { ...ref, time: newest };
        locks.push(
          await datastore.lockSnapshot(previousRef, "shared", "use it as the base of a backup"),
        );
        previous = await loadPrevious(datastore, previousRef);
      }
      registration = datastore.writers.register(); // before any chunk is inserted or referenced
      await createSnapshotDirectory(datastore, ref);
      return new SnapshotWriter(datastore, ref, locks, registration, previous);
    } catch (err) {
      registration?.release();
      for (const lock of locks.reverse()) lock.release();
      throw err;
    }
  }

  get state(): "open" | "finishing" | "finished" | "aborted" {
    return this.#state;
  }

  /** Upload statistics so far. */
  get stats(): ChunkUploadStats {
    return { ...this.#stats };
  }

  /** The previous finished snapshot, unless its last verification failed (then it is no base). */
  previous(): PreviousSnapshot | undefined {
    return this.#previous;
  }

  /** A file of the previous snapshot (e.g. an index to base an incremental backup on). */
  async readPreviousFile(name: string): Promise<Buffer> {
    const filename = validateArchiveName(name);
    const previous = this.#previous;
    if (!previous || findManifestFile(previous.manifest, filename) === undefined) {
      throw new DatastoreError("not-found", `the previous snapshot has no file ${filename}`, {
        filename,
      });
    }
    return readFile(join(this.datastore.snapshotDir(previous.ref), filename));
  }

  /** Stores one encoded chunk (checked by the chunk store) and counts it in the upload stats. */
  insertChunk(digest: string | Uint8Array, encoded: Buffer, size?: number): Promise<InsertResult> {
    return this.#track("insert a chunk", async () => {
      const hex = typeof digest === "string" ? digest : Buffer.from(digest).toString("hex");
      const result = await this.datastore.chunks.insert(
        hex,
        encoded,
        size === undefined ? {} : { expectedSize: size },
      );
      this.#stats.count++;
      this.#stats.size += size ?? 0;
      this.#stats.compressed_size += encoded.length;
      if (result.duplicate) this.#stats.duplicates++;
      return result;
    });
  }

  /** A fixed index (`.fidx`) of an image of `size` bytes, written to `<name>.tmp_fidx`. */
  createFixedIndex(
    name: string,
    size: number,
    chunkSize = DEFAULT_FIXED_CHUNK_SIZE,
  ): Promise<SnapshotIndexFile<FixedIndexWriter>> {
    return this.#track("create a fixed index", () =>
      this.#openIndex(name, ".fidx", (file) => FixedIndexWriter.create(file, { size, chunkSize })),
    );
  }

  /** A dynamic index (`.didx`), written to `<name>.tmp_didx`. */
  createDynamicIndex(name: string): Promise<SnapshotIndexFile<DynamicIndexWriter>> {
    return this.#track("create a dynamic index", () =>
      this.#openIndex(name, ".didx", (file) => DynamicIndexWriter.create(file)),
    );
  }

  /** Stores an encoded blob after checking its CRC; returns the size and checksum a manifest lists. */
  writeBlob(name: string, encoded: Buffer): Promise<{ size: number; csum: string }> {
    return this.#track("write a blob", async () => {
      const filename = this.#claimName(name, ".blob");
      try {
        if (encoded.length > MAX_UPLOADED_BLOB_SIZE) {
          throw new FormatError(
            "oversize",
            `blob ${filename} of ${encoded.length} bytes exceeds ${MAX_UPLOADED_BLOB_SIZE}`,
            { filename, size: encoded.length },
          );
        }
        const header = verifyBlobCrc(encoded);
        await writeFileAtomic(join(this.dir, filename), encoded, {
          fsync: this.datastore.syncLevel === "file",
        });
        const written = {
          size: encoded.length,
          csum: createHash("sha256").update(encoded).digest("hex"),
          cryptMode: header.cryptMode,
        };
        this.#written.set(filename, written);
        return { size: written.size, csum: written.csum };
      } catch (err) {
        this.#written.delete(filename);
        throw err;
      }
    });
  }

  /**
   * Places an index file copied whole from another datastore (sync): parsed, its recomputed
   * checksum and data size recorded for finish() to check against the manifest. The chunks it
   * names must already be in the store; the caller inserts them first.
   */
  copyIndex(name: string, bytes: Buffer): Promise<{ size: number; csum: string }> {
    return this.#track("copy an index", async () => {
      const extension = name.endsWith(".fidx") ? ".fidx" : ".didx";
      const filename = this.#claimName(name, extension);
      try {
        const index =
          extension === ".fidx" ? FixedIndexReader.parse(bytes) : DynamicIndexReader.parse(bytes);
        const { csum, size } = index.verify();
        await writeFileAtomic(join(this.dir, filename), bytes, {
          fsync: this.datastore.syncLevel === "file",
        });
        const written = { size, csum: csum.toString("hex") };
        this.#written.set(filename, written);
        return written;
      } catch (err) {
        this.#written.delete(filename);
        throw err;
      }
    });
  }

  /**
   * Completes the backup: every index closed, at least one file, the manifest (an object, or the
   * encoded `index.json.blob` the client uploads) matching what was written; then the data made
   * durable per sync level and the manifest written with the upload stats. Any failure aborts
   * the backup. Returns the manifest as written. With `keepBytes` (sync), an encoded manifest is
   * written byte for byte as the source holds it, without upload stats.
   */
  async finish(
    input: Manifest | Uint8Array,
    options: { keepBytes?: boolean } = {},
  ): Promise<Manifest> {
    this.#requireOpen("finish the backup");
    this.#state = "finishing";
    try {
      await Promise.allSettled(this.#inFlight);
      if (this.#openIndexes.size > 0) {
        throw new DatastoreError(
          "bad-state",
          `cannot finish ${showSnapshot(this.ref)}: index writers still open (${[...this.#openIndexes.keys()].join(", ")})`,
          { snapshot: snapshotRefPath(this.ref), open: [...this.#openIndexes.keys()] },
        );
      }
      if (this.#written.size === 0) {
        throw new DatastoreError(
          "bad-state",
          `backup ${showSnapshot(this.ref)} contains no files`,
          {
            snapshot: snapshotRefPath(this.ref),
          },
        );
      }
      const manifest = input instanceof Uint8Array ? decodeManifestBlob(input) : input;
      this.#checkManifest(manifest);
      await this.#syncData();
      const fsync = this.datastore.fsyncMetadata;
      let final: Manifest = manifest;
      if (options.keepBytes && input instanceof Uint8Array) {
        await writeFileAtomic(join(this.dir, MANIFEST_BLOB_NAME), input, { fsync });
      } else {
        final = {
          ...manifest,
          unprotected: { ...manifest.unprotected, chunk_upload_stats: this.stats },
        };
        await writeManifestFile(this.dir, final, { fsync });
      }
      this.#state = "finished";
      this.#release();
      return final;
    } catch (err) {
      await this.#discard();
      throw err;
    }
  }

  /** Drops the backup: the snapshot directory goes, every lock is released. No-op once finished. */
  async abort(): Promise<void> {
    if (this.#state !== "open") return;
    await this.#discard();
  }

  // ---- internals ----

  async #openIndex<W extends FixedIndexWriter | DynamicIndexWriter>(
    name: string,
    extension: ".fidx" | ".didx",
    create: (file: PositionalWriter) => Promise<W>,
  ): Promise<SnapshotIndexFile<W>> {
    const filename = this.#claimName(name, extension);
    const finalPath = join(this.dir, filename);
    const tempPath = join(this.dir, tempName(filename, extension));
    let handle: FileHandle | undefined;
    try {
      handle = await open(tempPath, "wx", 0o644);
      const writer = await create(handle);
      const file = new SnapshotIndexFile<W>(
        filename,
        writer,
        tempPath,
        finalPath,
        handle,
        this.#hooks,
      );
      this.#openIndexes.set(filename, file);
      return file;
    } catch (err) {
      await handle?.close().catch(() => {});
      if (handle) await rm(tempPath, { force: true });
      this.#written.delete(filename);
      throw err;
    }
  }

  /** Validates a new file's name and reserves it (a placeholder entry) until it is written or dropped. */
  #claimName(name: string, extension: string): string {
    const filename = validateArchiveName(name);
    if (!filename.endsWith(extension)) {
      throw badName("archive name", name, `must end in ${extension} here`);
    }
    if (filename === MANIFEST_BLOB_NAME) {
      throw badName("archive name", name, "is the manifest, which finish() writes");
    }
    if (this.#written.has(filename) || this.#openIndexes.has(filename)) {
      throw new DatastoreError(
        "exists",
        `${showSnapshot(this.ref)} already has a file ${filename}`,
        {
          snapshot: snapshotRefPath(this.ref),
          filename,
        },
      );
    }
    this.#written.set(filename, { size: -1, csum: "" }); // placeholder, replaced when written
    return filename;
  }

  #checkManifest(manifest: Manifest): void {
    const { type, id, time } = this.ref;
    if (manifest.backupType !== type || manifest.backupId !== id || manifest.backupTime !== time) {
      throw new DatastoreError(
        "manifest-mismatch",
        `manifest names ${manifest.backupType}/${manifest.backupId}/${manifest.backupTime}, not the snapshot being written (${type}/${id}/${time})`,
        { snapshot: snapshotRefPath(this.ref) },
      );
    }
    for (const file of manifest.files) {
      const written = this.#written.get(file.filename);
      const mismatch =
        written === undefined
          ? "was not uploaded"
          : written.size !== file.size || written.csum !== file.csum
            ? `was uploaded with size ${written.size} and checksum ${written.csum}, the manifest says ${file.size} and ${file.csum}`
            : written.cryptMode !== undefined &&
                (written.cryptMode === "encrypt") !== (file.cryptMode === "encrypt")
              ? `is ${written.cryptMode === "encrypt" ? "" : "not "}encrypted, the manifest says crypt-mode ${file.cryptMode}`
              : undefined;
      if (mismatch !== undefined) {
        throw new DatastoreError(
          "manifest-mismatch",
          `manifest of ${showSnapshot(this.ref)} lists ${file.filename}, which ${mismatch}`,
          { snapshot: snapshotRefPath(this.ref), filename: file.filename },
        );
      }
    }
  }

  /** Makes chunks and files durable before the manifest can name them (README "sync levels"). */
  async #syncData(): Promise<void> {
    const level = this.datastore.syncLevel;
    if (level === "file") {
      await fsyncDirectory(this.dir); // files and chunks were fsynced as they were written
      await fsyncDirectory(dirname(this.dir));
    } else if (level === "filesystem") {
      try {
        const { execa } = await import("execa"); // loaded on first use: it costs ~0.3 s at startup
        await execa("sync", ["--file-system", this.dir]);
      } catch (err) {
        throw new DatastoreError(
          "sync-failed",
          `cannot sync the file system of ${this.dir}: ${(err as Error).message}`,
          { snapshot: snapshotRefPath(this.ref) },
          undefined,
          { cause: err },
        );
      }
    }
  }

  #requireOpen(what: string): void {
    if (this.#state !== "open") {
      throw new DatastoreError(
        "bad-state",
        `cannot ${what}: the backup ${showSnapshot(this.ref)} is ${this.#state}`,
        { snapshot: snapshotRefPath(this.ref), state: this.#state },
      );
    }
  }

  /** Runs an operation of the open backup; finish and abort wait for those in flight. */
  #track<T>(what: string, operation: () => Promise<T>): Promise<T> {
    let running: Promise<T>;
    try {
      this.#requireOpen(what);
      running = operation();
    } catch (err) {
      return Promise.reject(err);
    }
    this.#inFlight.add(running);
    const forget = () => this.#inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #discard(): Promise<void> {
    this.#state = "aborted";
    await Promise.allSettled(this.#inFlight);
    for (const index of [...this.#openIndexes.values()]) await index.discard();
    try {
      await rm(this.dir, { recursive: true, force: true }); // still under the snapshot lock
    } finally {
      this.#release();
    }
  }

  #release(): void {
    this.#registration.release();
    for (const lock of [...this.#locks].reverse()) lock.release();
  }
}

function tempName(filename: string, extension: ".fidx" | ".didx"): string {
  return `${filename.slice(0, -extension.length)}.tmp_${extension.slice(1)}`;
}

async function newestFinishedTime(groupDir: string): Promise<number | undefined> {
  const times = await listSnapshotTimes(groupDir);
  for (const time of times.reverse()) {
    if (await hasManifest(join(groupDir, formatSnapshotTime(time)))) return time;
  }
  return undefined;
}

/** The base for an incremental backup, unless its manifest is unreadable or its verify failed. */
async function loadPrevious(
  datastore: Datastore,
  ref: SnapshotRef,
): Promise<PreviousSnapshot | undefined> {
  let manifest: Manifest;
  try {
    manifest = await readManifestFile(datastore.snapshotDir(ref));
  } catch {
    return undefined;
  }
  return readVerifyState(manifest)?.state === "failed" ? undefined : { ref, manifest };
}

async function createSnapshotDirectory(datastore: Datastore, ref: SnapshotRef): Promise<void> {
  try {
    await mkdir(datastore.snapshotDir(ref));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new DatastoreError("exists", `snapshot ${showSnapshot(ref)} already exists`, {
        snapshot: snapshotRefPath(ref),
      });
    }
    throw err;
  }
}
