import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { HEADER_SIZE } from "../format/pxar/constants.js";
import type {
  EncoderEntry,
  FileContent,
  HardlinkTarget,
  PxarEncoder,
  PxarEncoderSummary,
} from "../format/pxar/encoder.js";
import type { Metadata } from "../format/pxar/types.js";
import { DEFAULT_READ_SIZE, fileContent } from "./archive/file-content.js";
import type { TreeEncoder } from "./archive/walker.js";
import {
  type ArchiveWarningKind,
  displayPath,
  messageOf,
  type WarningHandler,
} from "./archive/warnings.js";
import type { KnownChunk } from "./index-upload.js";
import type { PayloadChunker } from "./payload-chunker.js";
import type { PreviousSplitArchive } from "./previous-split-archive.js";

/** PBS re-encodes a run of re-usable files when more than this share of its chunks is padding. */
export const MAX_PADDING_RATIO = 0.1;
/**
 * Entries held back while a run of re-usable files grows. PBS holds each file open and sizes its
 * cache from the open-file limit (512 by default); held entries here keep no descriptor, so the
 * cache is larger: runs cut short leave small files in partly used chunks, to be read again.
 */
export const LOOKAHEAD_ENTRIES = 64 * 1024;

/** What metadata change detection did with the files of one archive. */
export interface ReuseStats {
  /** Files whose payload came from the previous snapshot, and their bytes. */
  reusedFiles: number;
  reusedBytes: number;
  /** Re-usable files read again as their run would have wasted too much of its chunks. */
  reencodedFiles: number;
  /** Bytes of re-used chunks that belong to no file of this archive. */
  paddingBytes: number;
  /** File bytes read to re-encode such files (the walk counts the other reads). */
  bytesRead: number;
}

export interface SplitEncoderOptions {
  chunker: PayloadChunker;
  /** The previous archive to re-use payload from (metadata mode); absent in data mode. */
  previous?: PreviousSplitArchive;
  /** The archive root on disk, to read a held-back file again when its run is not re-used. */
  root: Buffer;
  onWarning?: WarningHandler;
}

type MutableTarget = { start: number; path: Buffer };

/** An entry held back in the look-ahead cache, in walk order. */
type Held =
  | { op: "begin"; name: Buffer; metadata: Metadata }
  | { op: "end" }
  | { op: "add"; name: Buffer; entry: EncoderEntry }
  | {
      op: "reuse";
      name: Buffer;
      relative: Buffer;
      metadata: Metadata;
      size: number;
      /** Offset of its PAYLOAD header in the previous `.ppxar`. */
      offset: number;
      target: MutableTarget;
    };

/**
 * The layer between the walk and a split archive's encoder (pxar-format.md §7). It tells the
 * payload chunker where each new file starts. With a previous archive, a file whose metadata
 * and size are unchanged is not read: such files are held back, with whatever the walk adds
 * meanwhile, while their previous payloads follow each other without a gap; then the previous
 * chunks covering that run are appended whole (no byte read or sent) and the held entries
 * written with PAYLOAD_REFs into them — unless the bytes of those chunks outside the run exceed
 * MAX_PADDING_RATIO, in which case the files are read and encoded like changed ones.
 */
export class SplitArchiveEncoder implements TreeEncoder {
  readonly stats: ReuseStats = {
    reusedFiles: 0,
    reusedBytes: 0,
    reencodedFiles: 0,
    paddingBytes: 0,
    bytesRead: 0,
  };
  readonly #encoder: PxarEncoder;
  readonly #options: SplitEncoderOptions;
  /** Names of the directories open below the root, at the walk's position. */
  readonly #dirs: Buffer[] = [];
  #held: Held[] = [];
  /** The previous payload range the held files cover. */
  #run: { start: number; end: number } | null = null;

  constructor(encoder: PxarEncoder, options: SplitEncoderOptions) {
    this.#encoder = encoder;
    this.#options = options;
    options.chunker.forceCut(encoder.payloadPosition); // after the start marker
  }

  async add(name: string | Uint8Array, entry: EncoderEntry): Promise<HardlinkTarget | null> {
    const bytes = Buffer.from(name);
    if (entry.kind === "file") {
      const ref = await this.#options.previous?.reusablePayload(
        this.#dirs,
        bytes,
        entry.metadata,
        entry.size,
      );
      if (ref) return this.#hold(bytes, entry.metadata, entry.size, ref.offset);
      await this.#flush();
      this.#options.chunker.suggestCut(this.#encoder.payloadPosition);
      return this.#encoder.add(bytes, entry);
    }
    if (this.#held.length === 0) return this.#encoder.add(bytes, entry);
    await this.#keep({ op: "add", name: bytes, entry });
    return null;
  }

  async beginDirectory(name: string | Uint8Array, metadata: Metadata): Promise<void> {
    const bytes = Buffer.from(name);
    this.#dirs.push(bytes);
    if (this.#held.length === 0) return this.#encoder.beginDirectory(bytes, metadata);
    await this.#keep({ op: "begin", name: bytes, metadata });
  }

  async endDirectory(): Promise<void> {
    this.#dirs.pop();
    if (this.#held.length === 0) return this.#encoder.endDirectory();
    await this.#keep({ op: "end" });
  }

  async finish(): Promise<PxarEncoderSummary> {
    await this.#flush();
    this.#options.chunker.forceCut(this.#encoder.payloadPosition); // before the tail marker
    return this.#encoder.finish();
  }

  async #hold(name: Buffer, metadata: Metadata, size: number, offset: number) {
    if (this.#run !== null && this.#run.end !== offset) await this.#flush();
    const relative = Buffer.concat([...this.#dirs.flatMap((dir) => [dir, SLASH]), name]);
    const target: MutableTarget = { start: -1, path: relative };
    this.#run = { start: this.#run?.start ?? offset, end: offset + HEADER_SIZE + size };
    await this.#keep({ op: "reuse", name, relative, metadata, size, offset, target });
    return target;
  }

  async #keep(held: Held): Promise<void> {
    this.#held.push(held);
    if (this.#held.length >= LOOKAHEAD_ENTRIES) await this.#flush();
  }

  /** Writes the held entries, re-using their run's chunks when that wastes little enough. */
  async #flush(): Promise<void> {
    const held = this.#held;
    const run = this.#run;
    if (held.length === 0 || run === null) return;
    this.#held = [];
    this.#run = null;
    const reuse = this.#plan(run);
    const base = this.#encoder.payloadPosition;
    for (const each of held) {
      if (each.op === "begin") await this.#encoder.beginDirectory(each.name, each.metadata);
      else if (each.op === "end") await this.#encoder.endDirectory();
      else if (each.op === "add") await this.#encoder.add(each.name, each.entry);
      else if (reuse === null) await this.#reencode(each);
      else {
        const payloadOffset = base + (each.offset - reuse.start);
        const { metadata, size } = each;
        const target = await this.#encoder.add(each.name, {
          kind: "reused-file",
          metadata,
          size,
          payloadOffset,
        });
        each.target.start = target!.start;
        this.stats.reusedFiles += 1;
        this.stats.reusedBytes += size;
      }
    }
    if (reuse === null) return;
    this.stats.paddingBytes += reuse.end - reuse.start - (run.end - run.start);
    await this.#encoder.advancePayload(reuse.end - reuse.start);
    this.#options.chunker.inject(base, reuse.chunks);
  }

  /** The previous chunks covering `run`, or null when their padding is too large a share. */
  #plan(run: { start: number; end: number }) {
    const index = this.#options.previous!.payloadIndex;
    const first = index.chunkIndexAt(run.start);
    const last = index.chunkIndexAt(run.end - 1);
    if (first === undefined || last === undefined) return null;
    const start = index.chunkRange(first).start;
    const end = index.chunkRange(last).end;
    const padding = end - start - (run.end - run.start);
    if (padding / (end - start) > MAX_PADDING_RATIO) return null;
    const chunks: KnownChunk[] = [];
    for (let i = first; i <= last; i++) {
      const range = index.chunkRange(i);
      chunks.push({ digest: index.digest(i), size: range.end - range.start });
    }
    return { start, end, chunks };
  }

  /** A held file whose run is not re-used: read from disk now, as a changed file would be. */
  async #reencode(file: Extract<Held, { op: "reuse" }>): Promise<void> {
    this.#options.chunker.suggestCut(this.#encoder.payloadPosition);
    const path = Buffer.concat([this.#options.root, SLASH, file.relative]);
    const handle = await this.#openQuietly(path, file.relative);
    try {
      const content: FileContent =
        handle === null
          ? zeros(file.size)
          : fileContent(handle, file.size, DEFAULT_READ_SIZE, this.#readEvents(file.relative));
      const { metadata, size } = file;
      const target = await this.#encoder.add(file.name, { kind: "file", metadata, size, content });
      file.target.start = target!.start;
      this.stats.reencodedFiles += 1;
    } finally {
      await handle?.close();
    }
  }

  async #openQuietly(path: Buffer, relative: Buffer): Promise<FileHandle | null> {
    try {
      return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      this.#warn(
        "read-error",
        relative,
        `cannot read again, stored as zeros: ${messageOf(error)}`,
        error,
      );
      return null;
    }
  }

  #readEvents(relative: Buffer) {
    return {
      read: (bytes: number) => {
        this.stats.bytesRead += bytes;
      },
      grew: (size: number) =>
        this.#warn("grew", relative, `grew; archived its first ${size} bytes`),
      shrank: (readable: number, size: number) =>
        this.#warn("shrank", relative, `shrank: ${readable} of ${size} bytes, padded with zeros`),
      failed: (offset: number, error: unknown) =>
        this.#warn(
          "read-error",
          relative,
          `read failed at byte ${offset}: ${messageOf(error)}`,
          error,
        ),
    };
  }

  #warn(kind: ArchiveWarningKind, relative: Buffer, message: string, cause?: unknown): void {
    const path = displayPath(relative);
    this.#options.onWarning?.({ kind, path, message: `${path}: ${message}`, cause });
  }
}

const SLASH = Buffer.from("/");

function* zeros(size: number): Generator<Uint8Array> {
  for (let at = 0; at < size; at += DEFAULT_READ_SIZE) {
    yield new Uint8Array(Math.min(DEFAULT_READ_SIZE, size - at));
  }
}
