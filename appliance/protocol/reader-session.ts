import type { SnapshotReader } from "../datastore/snapshot-reader.js";
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
import { ProtocolError } from "./errors.js";
import { KnownChunks, parseStoredIndex } from "./known-chunks.js";
import { READER_CALLS } from "./reader-calls.js";

export interface ReaderSessionOptions {
  /** Log every chunk download (PBS's `debug`). */
  debug?: boolean;
  log?: (message: string) => void;
}

/**
 * The server side of one restore session (pbs-formats.md §8, "Reader"): files of one finished
 * snapshot, and the chunks of the indexes downloaded in this session — no others. The snapshot
 * stays shared-locked until close().
 */
export class ReaderSession implements ProtocolSession {
  readonly #allowed = new KnownChunks();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #log: (message: string) => void;
  readonly #debug: boolean;

  constructor(
    readonly reader: SnapshotReader,
    options: ReaderSessionOptions = {},
  ) {
    this.#log = options.log ?? (() => {});
    this.#debug = options.debug ?? false;
  }

  prepare(request: CallRequest): PreparedCall {
    if (this.reader.closed) throw new ProtocolError("bad-state", "the reader session is closed");
    const prepared = prepareCall(READER_CALLS, this, request);
    return { body: prepared.body, run: (body) => this.#track(() => prepared.run(body)) };
  }

  handle(call: SessionCall): Promise<CallResult> {
    return handleCall(this, call);
  }

  /** A file of the snapshot; an index's chunks become downloadable. */
  async download(name: string): Promise<Buffer> {
    const bytes = await this.reader.readFile(name);
    const index = parseStoredIndex(name, bytes);
    if (index) this.#allowed.registerIndex(index);
    this.#log(`download ${name}${index ? ` (${index.count} chunks)` : ""}`);
    return bytes;
  }

  async chunk(digest: string): Promise<Buffer> {
    if (!this.#allowed.has(digest)) {
      this.#log(`refused chunk ${digest}: no downloaded index refers to it`);
      throw new ProtocolError(
        "chunk-not-allowed",
        `download of chunk ${digest} not allowed: no index downloaded in this session refers to it`,
        { digest },
      );
    }
    const encoded = await this.reader.readChunk(digest);
    if (this.#debug) this.#log(`download chunk ${digest}`);
    return encoded;
  }

  async close(): Promise<SessionOutcome> {
    await Promise.allSettled([...this.#inFlight]);
    this.reader.close();
    return { ok: true, message: "reader finished" };
  }

  #track<T>(run: () => Promise<T>): Promise<T> {
    const running = run();
    this.#inFlight.add(running);
    const forget = () => this.#inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }
}
