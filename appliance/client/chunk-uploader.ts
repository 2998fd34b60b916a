import { createHash, type Hash } from "node:crypto";
import { chunkDigest, encodeChunk } from "../format/chunk.js";
import type { CryptConfig } from "../format/crypt-config.js";
import type {
  BackupWriterClient,
  IndexClose,
  IndexEntry,
} from "../protocol/client/backup-writer-client.js";
import type { IndexKind } from "../protocol/session-index.js";
import { ClientError } from "./errors.js";
import { emptyStats, type UploadStats } from "./upload-stats.js";

/** Digests the session knows (previous indexes, uploads so far), shared by a backup's archives. */
export type KnownChunks = Map<string, Promise<void>>;

export interface ChunkUploaderOptions {
  writer: BackupWriterClient;
  kind: IndexKind;
  wid: number;
  known: KnownChunks;
  /** Encrypts the chunks and keys their digests; absent for plain and sign-only archives. */
  crypt?: CryptConfig;
  /** Uploads in flight at most (each holds one encoded chunk). */
  maxInFlight?: number;
  /** Entries per PUT append (PBS's client merges up to 64). */
  appendBatch?: number;
  /** Called after each chunk with the stats so far (progress). */
  onChunk?: (stats: UploadStats) => void;
}

const ZERO_CHECK = Buffer.alloc(64 * 1024);

/**
 * Feeds one index of a backup session: each chunk is hashed; a chunk the session knows is only
 * appended, a new one is encoded and uploaded with at most `maxInFlight` uploads pending. Appends
 * go in order, in batches, each once its chunks have reached the server.
 */
export class ChunkUploader {
  readonly stats: UploadStats = emptyStats();
  readonly #options: Required<Omit<ChunkUploaderOptions, "crypt" | "onChunk">> &
    Pick<ChunkUploaderOptions, "crypt" | "onChunk">;
  readonly #csum: Hash = createHash("sha256");
  readonly #inFlight = new Set<Promise<void>>();
  #batch: { entry: IndexEntry; stored: Promise<void> }[] = [];
  #appends: Promise<void> = Promise.resolve();
  #offset = 0;
  #failure: unknown;
  /** The digest of the all-zero chunk of one length (images), so zeros are not hashed again. */
  #zero: { length: number; digest: Buffer } | undefined;

  constructor(options: ChunkUploaderOptions) {
    this.#options = { maxInFlight: 8, appendBatch: 64, ...options };
  }

  async add(data: Buffer): Promise<void> {
    await this.#add(data, this.#offset);
  }

  /**
   * Puts a chunk at `offset` of an incremental fixed index (only dirty chunks are sent) and returns
   * its digest; the checksum finish() returns then covers these chunks alone, not the index.
   */
  addAt(offset: number, data: Buffer): Promise<Buffer> {
    if (this.#options.kind !== "fixed") {
      throw new ClientError("unsupported", "chunks can be placed by offset in fixed indexes only");
    }
    return this.#add(data, offset);
  }

  async #add(data: Buffer, start: number): Promise<Buffer> {
    this.#throwIfFailed();
    const digest = this.#digest(data);
    const hex = digest.toString("hex");
    this.#offset += data.length;
    this.#recordCsum(digest);
    this.stats.bytes += data.length;
    this.stats.chunks += 1;
    let stored = this.#options.known.get(hex);
    if (stored === undefined) {
      while (this.#inFlight.size >= this.#options.maxInFlight) await Promise.race(this.#inFlight);
      this.#throwIfFailed();
      stored = this.#upload(data, digest);
      this.#options.known.set(hex, stored);
    } else {
      this.stats.knownChunks += 1;
      this.stats.knownBytes += data.length;
    }
    this.#append(hex, start, stored);
    return digest;
  }

  /**
   * Appends a chunk the session knows by digest alone, without its data (payload re-use in
   * metadata change detection); the digest must be known, else the server would refuse it.
   */
  addKnown(digest: Buffer, size: number): void {
    this.#throwIfFailed();
    const hex = digest.toString("hex");
    const stored = this.#options.known.get(hex);
    if (stored === undefined) {
      throw new ClientError("tampered", `re-used chunk ${hex} is not known to this session`, {
        digest: hex,
      });
    }
    const start = this.#offset;
    this.#offset += size;
    this.#recordCsum(digest);
    this.stats.bytes += size;
    this.stats.chunks += 1;
    this.stats.knownChunks += 1;
    this.stats.knownBytes += size;
    this.#append(hex, start, stored);
  }

  #append(hex: string, offset: number, stored: Promise<void>): void {
    this.#batch.push({ entry: { digest: hex, offset }, stored });
    if (this.#batch.length >= this.#options.appendBatch) this.#flushBatch();
    this.#options.onChunk?.(this.stats);
  }

  /** Waits for every upload and append; returns what the index close call needs. */
  async finish(): Promise<IndexClose> {
    this.#flushBatch();
    await Promise.allSettled(this.#inFlight);
    await this.#appends;
    this.#throwIfFailed();
    return { chunkCount: this.stats.chunks, size: this.#offset, csum: this.#csum.digest() };
  }

  #digest(data: Buffer): Buffer {
    if (this.#options.kind === "fixed" && isZero(data)) {
      if (this.#zero?.length !== data.length) {
        this.#zero = { length: data.length, digest: chunkDigest(data, this.#options.crypt) };
      }
      return this.#zero.digest;
    }
    return chunkDigest(data, this.#options.crypt);
  }

  /** Fixed: SHA-256 of the digests; dynamic: of `le64(end) ‖ digest` per entry. */
  #recordCsum(digest: Buffer): void {
    if (this.#options.kind === "dynamic") {
      const end = Buffer.alloc(8);
      end.writeBigUInt64LE(BigInt(this.#offset));
      this.#csum.update(end);
    }
    this.#csum.update(digest);
  }

  #upload(data: Buffer, digest: Buffer): Promise<void> {
    const { writer, kind, wid, crypt } = this.#options;
    const encoded = encodeChunk(data, crypt ? { crypt } : {}).encoded;
    this.stats.uploadedChunks += 1;
    this.stats.uploadedBytes += data.length;
    this.stats.encodedBytes += encoded.length;
    const upload = writer
      .uploadChunk(kind, wid, { digest, size: data.length, encoded })
      .then(() => undefined);
    const tracked = upload.then(
      () => {
        this.#inFlight.delete(tracked);
      },
      (err: unknown) => {
        this.#inFlight.delete(tracked);
        this.#failure ??= err;
        throw err;
      },
    );
    tracked.catch(() => {}); // surfaced through #failure
    this.#inFlight.add(tracked);
    return tracked;
  }

  #flushBatch(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    const { writer, kind, wid } = this.#options;
    this.#appends = this.#appends.then(async () => {
      if (this.#failure) return;
      try {
        await Promise.all(batch.map((each) => each.stored));
        await writer.appendIndex(
          kind,
          wid,
          batch.map((each) => each.entry),
        );
      } catch (err) {
        this.#failure ??= err;
      }
    });
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}

function isZero(data: Buffer): boolean {
  for (let at = 0; at < data.length; at += ZERO_CHECK.length) {
    const end = Math.min(at + ZERO_CHECK.length, data.length);
    if (data.compare(ZERO_CHECK, 0, end - at, at, end) !== 0) return false;
  }
  return true;
}
