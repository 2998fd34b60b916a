import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isDatastoreError } from "../datastore/errors.js";
import { decodeManifestBlob, MANIFEST_BLOB_NAME } from "../datastore/manifest-file.js";
import type { SnapshotWriter } from "../datastore/snapshot-writer.js";
import { DEFAULT_FIXED_CHUNK_SIZE, type FixedIndexReader } from "../format/fixed-index.js";
import { BACKUP_CALLS, MAX_WRITERS } from "./backup-calls.js";
import {
  type CallRequest,
  type CallResult,
  handleCall,
  type PreparedCall,
  type ProtocolSession,
  prepareCall,
  type SessionCall,
  type SessionOutcome,
} from "./call-table.js";
import { DynamicSessionIndex } from "./dynamic-session-index.js";
import { ProtocolError } from "./errors.js";
import { FixedSessionIndex } from "./fixed-session-index.js";
import { KnownChunks, parseStoredIndex } from "./known-chunks.js";
import {
  type CloseRequest,
  type IndexKind,
  type SessionIndex,
  writerLabel,
} from "./session-index.js";

export interface BackupSessionOptions {
  /** A `host/benchmark` session: its snapshot is removed when the session ends. */
  benchmark?: boolean;
  /** Log every chunk and append, not only files (PBS's `debug`). */
  debug?: boolean;
  /** Where the session's log lines go (its task log). */
  log?: (message: string) => void;
}

/**
 * The server side of one backup session (pbs-formats.md §8) over a SnapshotWriter: the writers
 * by id, the chunks the client may refer to, the manifest blob the client uploaded, and the
 * end of it all — finish, or abort when the connection goes without one. No HTTP in here: the
 * transport hands in each request's method, path, query and body.
 */
export class BackupSession implements ProtocolSession {
  #state: "open" | "finishing" | "finished" | "aborted" = "open";
  #abortReason = "";
  readonly #known = new KnownChunks();
  readonly #indexes = new Map<number, SessionIndex>();
  readonly #names = new Set<string>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #log: (message: string) => void;
  readonly #debug: boolean;
  #writersOpened = 0;
  #files = 0;
  #manifest: Buffer | undefined;

  constructor(
    readonly writer: SnapshotWriter,
    readonly options: BackupSessionOptions = {},
  ) {
    this.#log = options.log ?? (() => {});
    this.#debug = options.debug ?? false;
  }

  get state(): "open" | "finishing" | "finished" | "aborted" {
    return this.#state;
  }

  /** Chunks the client may append: uploaded here or listed by a downloaded previous index. */
  get knownChunks(): number {
    return this.#known.size;
  }

  prepare(request: CallRequest): PreparedCall {
    this.#requireOpen();
    const prepared = prepareCall(BACKUP_CALLS, this, request);
    return {
      body: prepared.body,
      // checked again: the session may have finished while the body was on its way
      run: (body) =>
        this.#track(async () => {
          this.#requireOpen();
          return prepared.run(body);
        }),
    };
  }

  /** prepare() and run in one step, with the body already in memory. */
  handle(call: SessionCall): Promise<CallResult> {
    return handleCall(this, call);
  }

  // ---- the calls ----

  previousBackupTime(): number | null {
    return this.writer.previous()?.ref.time ?? null;
  }

  /** A file of the previous snapshot; an index's chunks become known to this session. */
  async previous(name: string): Promise<Buffer> {
    if (this.writer.previous() === undefined) {
      throw new ProtocolError("no-previous", "there is no previous backup in this group");
    }
    const bytes = await this.#readPrevious(name);
    const index = parseStoredIndex(name, bytes);
    if (index) this.#known.registerIndex(index);
    this.#log(
      `download '${name}' from previous backup${index ? ` (${index.count} chunks known)` : ""}`,
    );
    return bytes;
  }

  async createFixedIndex(name: string, size: number, reuseCsum?: string): Promise<number> {
    return this.#claim(name, async () => {
      const source =
        reuseCsum === undefined ? undefined : await this.#reusable(name, size, reuseCsum);
      const wid = this.#nextWid();
      const file = await this.writer.createFixedIndex(name, size, DEFAULT_FIXED_CHUNK_SIZE);
      try {
        if (source) await file.writer.prefillFrom(source);
      } catch (err) {
        await file.discard();
        throw err;
      }
      this.#indexes.set(wid, new FixedSessionIndex(wid, file, source !== undefined));
      this.#log(
        `created new fixed index ${wid} (${name})${source ? ", reusing the previous index" : ""}`,
      );
      return wid;
    });
  }

  async createDynamicIndex(name: string): Promise<number> {
    return this.#claim(name, async () => {
      const wid = this.#nextWid();
      const file = await this.writer.createDynamicIndex(name);
      this.#indexes.set(wid, new DynamicSessionIndex(wid, file));
      this.#log(`created new dynamic index ${wid} (${name})`);
      return wid;
    });
  }

  /** Refuses an upload before its body is read: no such writer, or a chunk it cannot hold. */
  checkChunkUpload(kind: IndexKind, wid: number, size: number): void {
    this.#index(kind, wid).checkChunkSize(size);
  }

  async uploadChunk(
    kind: IndexKind,
    wid: number,
    digest: string,
    size: number,
    encoded: Buffer,
  ): Promise<string> {
    this.checkChunkUpload(kind, wid, size);
    const result = await this.writer.insertChunk(digest, encoded, size);
    this.#index(kind, wid).chunkUploaded(size);
    this.#known.register(digest, size);
    if (this.#debug) {
      this.#log(`upload chunk ${digest} (${size} bytes${result.duplicate ? ", duplicate" : ""})`);
    }
    return digest;
  }

  async append(kind: IndexKind, wid: number, digests: string[], offsets: number[]): Promise<void> {
    const index = this.#index(kind, wid);
    if (digests.length !== offsets.length) {
      throw new ProtocolError(
        "bad-parameter",
        `${writerLabel(index)}: digest-list has ${digests.length} entries, offset-list ${offsets.length}`,
      );
    }
    const entries = digests.map((digest, i) => {
      const size = this.#known.sizeOf(digest);
      if (size === undefined) {
        throw new ProtocolError(
          "unknown-chunk",
          `${writerLabel(index)}: chunk ${digest} is unknown - upload it first, or download the previous index listing it`,
          { wid, digest },
        );
      }
      return { digest: Buffer.from(digest, "hex"), offset: offsets[i]!, size };
    });
    await index.append(entries);
    if (this.#debug) this.#log(`${writerLabel(index)}: appended ${entries.length} chunks`);
  }

  /** Like PBS, the writer id is gone after a close, successful or not. */
  async closeIndex(kind: IndexKind, wid: number, request: CloseRequest): Promise<void> {
    const index = this.#index(kind, wid);
    this.#indexes.delete(wid);
    try {
      await index.close(request);
    } catch (err) {
      this.#names.delete(index.name); // the file is gone: the name may be used again
      throw err;
    }
    this.#files++;
    this.#log(`${writerLabel(index)} closed: ${request.chunkCount} chunks, ${request.size} bytes`);
  }

  /** A blob; `index.json.blob` is held back for finish(), which writes it last. */
  async uploadBlob(name: string, encoded: Buffer): Promise<void> {
    await this.#claim(name, async () => {
      if (name === MANIFEST_BLOB_NAME) {
        decodeManifestBlob(encoded); // refused now rather than at finish: CRC, unencrypted, JSON
        this.#manifest = encoded;
      } else {
        await this.writer.writeBlob(name, encoded);
        this.#files++;
      }
    });
    this.#log(`upload blob ${name} (${encoded.length} bytes)`);
  }

  /**
   * Completes the backup. Missing pieces (open writers, no file, no manifest) are refused and
   * the session stays usable; a manifest that does not match the files aborts the backup.
   */
  async finish(): Promise<void> {
    this.#requireOpen();
    this.#state = "finishing";
    await this.#settleOthers();
    const problem = this.#finishProblem();
    if (problem !== undefined) {
      this.#state = "open";
      throw new ProtocolError("bad-state", `cannot finish the backup: ${problem}`);
    }
    try {
      await this.writer.finish(this.#manifest!);
    } catch (err) {
      this.#state = "aborted";
      this.#abortReason = `finish failed: ${(err as Error).message}`;
      throw err;
    }
    this.#state = "finished";
    this.#log(`backup finished: ${this.#files} files, ${JSON.stringify(this.writer.stats)}`);
  }

  async close(): Promise<SessionOutcome> {
    await Promise.allSettled([...this.#inFlight]);
    if (this.#state === "finished") {
      if (this.options.benchmark) {
        await this.writer.datastore.deleteSnapshot(this.writer.ref);
        this.#log("benchmark finished: snapshot removed");
      }
      return { ok: true, message: "backup finished" };
    }
    if (this.#state !== "aborted") {
      this.#state = "aborted";
      this.#abortReason = "backup ended without finish";
    }
    await this.writer.abort();
    this.#log(`${this.#abortReason}: snapshot removed`);
    return { ok: false, message: this.#abortReason };
  }

  // ---- internals ----

  #requireOpen(): void {
    if (this.#state === "open") return;
    const what = this.#state === "aborted" ? `aborted (${this.#abortReason})` : this.#state;
    throw new ProtocolError("bad-state", `the backup session is ${what}`, { state: this.#state });
  }

  #index(kind: IndexKind, wid: number): SessionIndex {
    const index = this.#indexes.get(wid);
    if (index === undefined || index.kind !== kind) {
      throw new ProtocolError("bad-writer", `no open ${kind} writer with id ${wid}`, { wid });
    }
    return index;
  }

  #nextWid(): number {
    if (this.#writersOpened >= MAX_WRITERS) {
      throw new ProtocolError(
        "bad-writer",
        `a backup session opens at most ${MAX_WRITERS} writers`,
      );
    }
    return ++this.#writersOpened;
  }

  /** Reserves a file name for the duration of `create`, and keeps it if that succeeds. */
  async #claim<T>(name: string, create: () => Promise<T>): Promise<T> {
    if (this.#names.has(name)) {
      throw new ProtocolError("duplicate-file", `${name} was already uploaded in this backup`, {
        archive: name,
      });
    }
    this.#names.add(name);
    try {
      return await create();
    } catch (err) {
      this.#names.delete(name);
      throw err;
    }
  }

  async #readPrevious(name: string): Promise<Buffer> {
    try {
      const previous = this.writer.previous();
      // readPreviousFile serves listed files only; clients start by fetching the manifest
      if (previous && name === MANIFEST_BLOB_NAME) {
        return await readFile(join(this.writer.datastore.snapshotDir(previous.ref), name));
      }
      return await this.writer.readPreviousFile(name);
    } catch (err) {
      if (!isDatastoreError(err, "not-found")) throw err;
      throw new ProtocolError("no-previous", `the previous backup has no file ${name}`, {
        archive: name,
      });
    }
  }

  /** The previous index an incremental fixed index starts from, if `csum` names it. */
  async #reusable(name: string, size: number, csum: string): Promise<FixedIndexReader> {
    if (this.writer.previous() === undefined) {
      throw new ProtocolError(
        "reuse-mismatch",
        "reuse-csum given, but there is no previous backup",
      );
    }
    let bytes: Buffer;
    try {
      bytes = await this.#readPrevious(name);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      throw new ProtocolError("reuse-mismatch", `reuse-csum given, but ${err.message}`);
    }
    const previous = parseStoredIndex(name, bytes) as FixedIndexReader;
    const actual = previous.computeCsum().csum.toString("hex");
    const problem =
      actual !== csum
        ? `reuse-csum ${csum} does not match the previous index (${actual})`
        : previous.size !== size
          ? `size ${size} differs from the previous index's ${previous.size}`
          : previous.chunkSize !== DEFAULT_FIXED_CHUNK_SIZE
            ? `the previous index uses ${previous.chunkSize}-byte chunks, not ${DEFAULT_FIXED_CHUNK_SIZE}`
            : undefined;
    if (problem !== undefined) {
      throw new ProtocolError("reuse-mismatch", `${name}: ${problem}`, { archive: name });
    }
    return previous;
  }

  #finishProblem(): string | undefined {
    if (this.#indexes.size > 0) {
      return `writers still open: ${[...this.#indexes.values()].map(writerLabel).join(", ")}`;
    }
    if (this.#files === 0) return "the backup contains no files";
    if (this.#manifest === undefined) return `no manifest - upload ${MANIFEST_BLOB_NAME} first`;
    return undefined;
  }

  /** The calls already running; finish() gets here before its own call is tracked. */
  async #settleOthers(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  #track<T>(run: () => Promise<T>): Promise<T> {
    const running = run();
    this.#inFlight.add(running);
    const forget = () => this.#inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }
}
