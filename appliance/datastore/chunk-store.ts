import {
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  type Stats,
  unlinkSync,
  utimesSync,
} from "node:fs";
import { link, lstat, mkdir, open, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { blobCryptMode, readBlobHeader, verifyBlobCrc } from "../format/blob.js";
import { decodeChunk, MAX_ENCODED_CHUNK_SIZE } from "../format/chunk.js";
import { FormatError } from "../format/errors.js";
import { identifyMagic } from "../format/magic.js";
import { renameDurably, tempPathFor } from "./atomic-file.js";
import { DatastoreError } from "./errors.js";
import { CHUNK_DIR, validateChunkDigest } from "./names.js";

/** Datastore tuning `sync-level` (pbs-formats.md §2). */
export type SyncLevel = "none" | "file" | "filesystem";

export const PREFIX_DIR_COUNT = 0x10000;
/** Verify renames a corrupt chunk to `<digest>.<n>.bad`, n = 0..9. */
export const MAX_BAD_COPIES = 10;
/** Suffix of a chunk that sweep has moved aside to re-check it before unlinking. */
export const SWEEP_SUFFIX = ".sweeping";
/** Iterators hand the event loop a turn after this much synchronous work. */
const YIELD_AFTER_MS = 8;

const DIGEST_HEX = /^[0-9a-f]{64}$/;
const BAD_SUFFIX = /^\.([0-9])\.bad$/;

export interface ChunkStoreOptions {
  syncLevel?: SyncLevel;
}

export interface CreateChunkStoreOptions extends ChunkStoreOptions {
  /** Create all 65,536 prefix directories now, as PBS does (default true). */
  preallocate?: boolean;
}

export interface InsertOptions {
  /** The plaintext length the uploader announced; checked for unencrypted chunks. */
  expectedSize?: number;
}

export interface InsertResult {
  /** The store already held a valid copy; nothing was written. */
  duplicate: boolean;
  /** Size of the chunk file now in the store. */
  encodedSize: number;
}

export interface ChunkStat {
  size: number;
  atimeMs: number;
  mtimeMs: number;
}

/** One file found under `.chunks` by `chunkFiles()`. */
export interface ChunkFile {
  digest: string;
  /** n of a `<digest>.<n>.bad` copy renamed aside by verify. */
  bad?: number;
  /** A file left behind by an interrupted insert (`temp`) or sweep (`sweeping`). */
  leftover?: "temp" | "sweeping";
  path: string;
  atimeMs: number;
  mtimeMs: number;
  size: number;
}

export interface ChunkFilesOptions {
  /** Also yield temp files of interrupted inserts and chunks an interrupted sweep moved aside. */
  includeLeftovers?: boolean;
  /** Called before each prefix directory is read, with its number 0..65535. */
  onPrefix?: (prefix: number) => void;
}

/** What `sweepFile` did with a chunk file whose atime was older than the cutoff. */
export type SweepOutcome = "removed" | "kept" | "vanished";

/**
 * The content-addressed chunk files of one datastore: `.chunks/<4 hex>/<64 hex digest>`, each an
 * encoded data blob. Inserts check content against the digest and never expose a partial file;
 * inserts of one digest are serialised within the process, and across processes a rename makes
 * one valid copy win.
 *
 * Touch and sweep follow one protocol so that a chunk an insert reports as stored cannot be swept
 * under it by a GC in another process: an insert that finds the chunk touches it and then checks
 * it is still there (else writes it); sweep moves an old chunk aside, re-reads its atime, and
 * unlinks it only if nobody touched it meanwhile (else moves it back).
 */
export class ChunkStore {
  readonly chunkDir: string;
  readonly #inFlight = new Map<string, Promise<void>>();

  private constructor(
    readonly root: string,
    readonly syncLevel: SyncLevel,
  ) {
    this.chunkDir = join(root, CHUNK_DIR);
  }

  /** Creates `.chunks` under the datastore directory `root` (which may already exist). */
  static async create(root: string, options: CreateChunkStoreOptions = {}): Promise<ChunkStore> {
    const chunkDir = join(root, CHUNK_DIR);
    await mkdir(chunkDir, { recursive: true });
    if (options.preallocate ?? true) {
      // synchronous mkdir in slices: faster than 65,536 thread-pool round trips
      let sliceStart = performance.now();
      for (let prefix = 0; prefix < PREFIX_DIR_COUNT; prefix++) {
        mkdirSync(join(chunkDir, prefixName(prefix)), { recursive: true });
        if (performance.now() - sliceStart > YIELD_AFTER_MS) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
    }
    return new ChunkStore(root, options.syncLevel ?? "filesystem");
  }

  /** Opens the chunk store of the datastore directory `root`. */
  static async open(root: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    const chunkDir = join(root, CHUNK_DIR);
    const found = await stat(chunkDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
      throw err;
    });
    if (!found?.isDirectory()) {
      throw new DatastoreError("not-a-datastore", `no chunk store at ${chunkDir}`, { path: root });
    }
    return new ChunkStore(root, options.syncLevel ?? "filesystem");
  }

  /** Absolute path of a chunk file; validates the digest. */
  pathOf(digest: string): string {
    const hex = validateChunkDigest(digest);
    return join(this.chunkDir, hex.slice(0, 4), hex);
  }

  /**
   * Stores an encoded chunk under its digest. Unencrypted chunks must decode to that digest (and
   * to `expectedSize` when given); encrypted ones, which the server cannot decrypt, must pass their
   * CRC. Throws FormatError for content that fails, DatastoreError "chunk-conflict" when an
   * encrypted and an unencrypted chunk claim one digest.
   */
  async insert(
    digest: string,
    encoded: Buffer,
    options: InsertOptions = {},
  ): Promise<InsertResult> {
    const path = this.pathOf(digest);
    checkContent(digest, encoded, options.expectedSize);
    return this.#serialised(digest, () => this.#store(digest, path, encoded));
  }

  async #serialised<T>(digest: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#inFlight.get(digest) ?? Promise.resolve();
    const result = previous.then(task);
    const settled = result.then(
      () => {},
      () => {},
    );
    this.#inFlight.set(digest, settled);
    try {
      return await result;
    } finally {
      if (this.#inFlight.get(digest) === settled) this.#inFlight.delete(digest);
    }
  }

  async #store(digest: string, path: string, encoded: Buffer): Promise<InsertResult> {
    const existing = await lstat(path).catch(ignoreMissing);
    if (existing) {
      if (!existing.isFile()) {
        throw new DatastoreError("chunk-conflict", `chunk ${digest} is not a regular file`, {
          digest,
          path,
        });
      }
      const keep =
        existing.size === encoded.length ||
        (await this.#keepExisting(digest, path, existing, encoded));
      if (keep && (await this.#touchAndConfirm(path, existing))) {
        return { duplicate: true, encodedSize: existing.size };
      }
    }
    await this.#write(path, encoded);
    return { duplicate: false, encodedSize: encoded.length };
  }

  /** PBS's rules for a chunk file of another size (pbs-formats.md §2): true keeps the existing one. */
  async #keepExisting(
    digest: string,
    path: string,
    existing: Stats,
    encoded: Buffer,
  ): Promise<boolean> {
    if (existing.size === 0) return false;
    const head = await readHead(path).catch(ignoreMissing);
    if (head === undefined) return false; // swept meanwhile
    const existingKind = identifyMagic(head);
    if (existingKind === undefined) return false; // not a blob at all: the validated upload replaces it
    const incoming = readBlobHeader(encoded);
    const existingEncrypted =
      existingKind === "encryptedBlob" || existingKind === "encryptedCompressedBlob";
    if (existingEncrypted !== (incoming.cryptMode === "encrypt")) {
      throw new DatastoreError(
        "chunk-conflict",
        `chunk ${digest} exists ${existingEncrypted ? "encrypted" : "unencrypted"}; refusing an ${incoming.cryptMode === "encrypt" ? "encrypted" : "unencrypted"} chunk with the same digest`,
        { digest, existingSize: existing.size, encodedSize: encoded.length },
      );
    }
    if (!existingEncrypted) return existing.size < encoded.length;
    if (existingKind === "encryptedBlob" && !incoming.compressed) {
      // the same plaintext encrypted without compression always has the same size
      throw new DatastoreError(
        "chunk-conflict",
        `chunk ${digest} exists as an uncompressed encrypted chunk of another size`,
        { digest, existingSize: existing.size, encodedSize: encoded.length },
      );
    }
    return true; // compressed sizes differ between zstd versions: keep the first upload
  }

  /** Touches the chunk, then confirms it is still in place (the insert half of the sweep protocol). */
  async #touchAndConfirm(path: string, existing: Stats): Promise<boolean> {
    try {
      await utimes(path, Date.now() / 1000, existing.mtimeMs / 1000);
      await lstat(path);
      return true;
    } catch (err) {
      ignoreMissing(err);
      return false;
    }
  }

  async #write(path: string, encoded: Buffer): Promise<void> {
    const temp = tempPathFor(path);
    const handle = await open(temp, "wx", 0o644).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
      await mkdir(join(path, ".."), { recursive: true }); // store created without prefix directories
      return open(temp, "wx", 0o644);
    });
    try {
      await handle.writeFile(encoded);
      if (this.syncLevel === "file") await handle.sync();
    } catch (err) {
      await handle.close();
      await unlink(temp).catch(() => {});
      throw err;
    }
    await handle.close();
    await renameDurably(temp, path, this.syncLevel === "file");
  }

  /** The encoded chunk; DatastoreError "chunk-missing" when the store does not hold it. */
  async read(digest: string): Promise<Buffer> {
    const path = this.pathOf(digest);
    try {
      return await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw chunkMissing(digest, path);
      throw err;
    }
  }

  async exists(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  async stat(digest: string): Promise<ChunkStat | undefined> {
    const found = await lstat(this.pathOf(digest)).catch(ignoreMissing);
    return found && { size: found.size, atimeMs: found.atimeMs, mtimeMs: found.mtimeMs };
  }

  /**
   * Sets the chunk's atime to now (GC keeps what was touched since it started); false when the
   * chunk is absent. The mtime is kept: it stays the time the chunk was written, so tools that copy
   * a datastore incrementally by mtime do not re-read every chunk after each GC. Node has no
   * UTIME_OMIT, so this costs a stat.
   */
  async touch(digest: string): Promise<boolean> {
    const path = this.pathOf(digest);
    try {
      const found = await lstat(path);
      await utimes(path, Date.now() / 1000, found.mtimeMs / 1000);
      return true;
    } catch (err) {
      ignoreMissing(err);
      return false;
    }
  }

  /** `touch` for GC mark, which batches synchronous calls; `atMs` is the GC's clock. */
  touchPathSync(path: string, atMs: number): boolean {
    const found = lstatSync(path, { throwIfNoEntry: false });
    if (!found) return false;
    try {
      utimesSync(path, atMs / 1000, found.mtimeMs / 1000);
      return true;
    } catch (err) {
      ignoreMissing(err);
      return false;
    }
  }

  /**
   * Every chunk file, one pass over the prefix directories in order. Names that are neither a
   * digest nor `<digest>.<n>.bad` are skipped (unless leftovers are asked for); files that vanish
   * while listed are skipped.
   */
  async *chunkFiles(options: ChunkFilesOptions = {}): AsyncGenerator<ChunkFile> {
    let sliceStart = performance.now();
    for (let prefix = 0; prefix < PREFIX_DIR_COUNT; prefix++) {
      options.onPrefix?.(prefix);
      const dir = join(this.chunkDir, prefixName(prefix));
      for (const name of listDirectory(dir)) {
        const file = describeChunkFile(dir, name, options.includeLeftovers ?? false);
        if (file) yield file;
        if (performance.now() - sliceStart > YIELD_AFTER_MS) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      if (performance.now() - sliceStart > YIELD_AFTER_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  }

  /**
   * Removes a chunk file that `chunkFiles` reported older than `cutoffMs`, unless it was touched
   * since: move it aside, re-read its atime, then unlink it or move it back.
   */
  sweepFile(file: ChunkFile, cutoffMs: number): SweepOutcome {
    const aside = `${file.path}${SWEEP_SUFFIX}`;
    try {
      renameSync(file.path, aside);
    } catch (err) {
      ignoreMissing(err);
      return "vanished";
    }
    const now = lstatSync(aside);
    if (now.atimeMs >= cutoffMs) {
      renameSync(aside, file.path); // touched meanwhile; any copy written since is equally valid
      return "kept";
    }
    unlinkSync(aside);
    return "removed";
  }

  /** Puts back a chunk an interrupted sweep moved aside (it was touched, or it is garbage again). */
  restoreSweptFile(file: ChunkFile): void {
    const original = file.path.slice(0, -SWEEP_SUFFIX.length);
    try {
      linkSync(file.path, original);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    unlinkSync(file.path);
  }

  /**
   * Renames a chunk that failed verification to `<digest>.<n>.bad` with the first free n (the last
   * slot is overwritten when all are taken, as PBS does). Returns the new path.
   */
  async markBad(digest: string): Promise<string> {
    const path = this.pathOf(digest);
    for (let n = 0; n < MAX_BAD_COPIES - 1; n++) {
      const target = `${path}.${n}.bad`;
      try {
        await link(path, target); // unlike rename, fails when the slot is taken
        await unlink(path);
        return target;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw chunkMissing(digest, path);
        if (code !== "EEXIST") throw err;
      }
    }
    const last = `${path}.${MAX_BAD_COPIES - 1}.bad`;
    await rename(path, last).catch((err: NodeJS.ErrnoException) => {
      throw err.code === "ENOENT" ? chunkMissing(digest, path) : err;
    });
    return last;
  }
}

/** The 4-hex-digit directory of a prefix number. */
export function prefixName(prefix: number): string {
  return prefix.toString(16).padStart(4, "0");
}

function checkContent(digest: string, encoded: Buffer, expectedSize: number | undefined): void {
  if (encoded.length > MAX_ENCODED_CHUNK_SIZE) {
    throw new FormatError(
      "oversize",
      `chunk ${digest} of ${encoded.length} bytes exceeds ${MAX_ENCODED_CHUNK_SIZE}`,
      {
        digest,
        encodedSize: encoded.length,
      },
    );
  }
  if (blobCryptMode(encoded) === "encrypt") {
    verifyBlobCrc(encoded);
  } else {
    decodeChunk(encoded, Buffer.from(digest, "hex"), { size: expectedSize });
  }
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function listDirectory(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    ignoreMissing(err); // prefix directory not created yet
    return [];
  }
}

function describeChunkFile(
  dir: string,
  name: string,
  includeLeftovers: boolean,
): ChunkFile | undefined {
  const digest = name.slice(0, 64);
  if (!DIGEST_HEX.test(digest)) return undefined;
  const rest = name.slice(64);
  let kind: Pick<ChunkFile, "bad" | "leftover"> | undefined;
  if (rest === "") kind = {};
  else if (BAD_SUFFIX.test(rest)) kind = { bad: Number(rest[1]) };
  else if (!includeLeftovers) return undefined;
  else if (rest.startsWith(".tmp_")) kind = { leftover: "temp" };
  else if (rest === SWEEP_SUFFIX) kind = { leftover: "sweeping" };
  if (!kind) return undefined;
  const path = join(dir, name);
  const found = lstatSync(path, { throwIfNoEntry: false });
  if (!found?.isFile()) return undefined;
  return {
    digest,
    ...kind,
    path,
    atimeMs: found.atimeMs,
    mtimeMs: found.mtimeMs,
    size: found.size,
  };
}

function chunkMissing(digest: string, path: string): DatastoreError {
  return new DatastoreError("chunk-missing", `chunk ${digest} is not in the store`, {
    digest,
    path,
  });
}

function ignoreMissing(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  throw err;
}
