/**
 * Writes a pxar archive from a depth-first walk (pxar-format.md §4–§6): the root directory is
 * opened by `create`, children are added with `add` and nested with `beginDirectory` /
 * `endDirectory`, and `finish` closes the root. With a payload sink the archive is a split v2
 * `.mpxar` whose files end in PAYLOAD_REF and whose contents go to the `.ppxar` stream.
 */
import { encodeMetadata } from "./attributes.js";
import { FORMAT_VERSION_2, hashFilename, MAX_PATH_LENGTH, PXAR } from "./constants.js";
import { ContentSizeMismatch, misuse } from "./errors.js";
import { encodeGoodbye, type GoodbyeChild } from "./goodbye.js";
import { encodeHeader, encodeItem } from "./header.js";
import {
  encodeDevice,
  encodeHardlink,
  encodePayloadRef,
  encodeU64,
  filenameProblem,
  withNul,
} from "./items.js";
import { type ByteSink, SinkWriter } from "./sink.js";
import { type DeviceNumber, type EntryKind, kindOfMode, type Metadata } from "./types.js";

/** File content: pieces of any size adding up to the declared size; pieces must not be reused. */
export type FileContent = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** What `add` stores under a name. */
export type EncoderEntry =
  | { kind: "file"; metadata: Metadata; size: number; content: FileContent }
  /** Split archives: a file whose bytes already are in the payload stream (metadata mode re-use). */
  | { kind: "reused-file"; metadata: Metadata; size: number; payloadOffset: number }
  | { kind: "symlink"; metadata: Metadata; target: string | Uint8Array }
  | { kind: "block-device" | "char-device"; metadata: Metadata; device: DeviceNumber }
  | { kind: "fifo" | "socket"; metadata: Metadata }
  | { kind: "hardlink"; target: HardlinkTarget };

/** A regular file already in the archive, which later hard links point at. */
export interface HardlinkTarget {
  /** Offset of the file's FILENAME header. */
  readonly start: number;
  /** Its path from the archive root, without a leading '/'. */
  readonly path: Buffer;
}

export interface PxarEncoderOptions {
  /** The `.ppxar` sink: makes this a split (format v2) archive. */
  readonly payload?: ByteSink;
  /** Opaque PRELUDE bytes, split archives only (PBS: `{"exclude-patterns": …}` JSON). */
  readonly prelude?: Uint8Array;
}

/** Sizes once the archive is complete. */
export interface PxarEncoderSummary {
  readonly archiveSize: number;
  /** `.ppxar` size including its start and tail markers; null for a v1 archive. */
  readonly payloadSize: number | null;
}

interface DirectoryFrame {
  readonly name: Buffer | null;
  /** Offset of the directory's ENTRY (0 for the root, whatever precedes its ENTRY). */
  readonly start: number;
  readonly filenameStart: number;
  readonly hash: bigint;
  readonly children: GoodbyeChild[];
  readonly names: Set<string>;
}

export class PxarEncoder {
  readonly #out: SinkWriter;
  readonly #payload: SinkWriter | null;
  readonly #stack: DirectoryFrame[] = [];
  /** Payload bytes declared through `advancePayload` but written by someone else. */
  #payloadSkipped = 0;
  #busy = false;
  #failed: unknown = null;
  #finished = false;

  private constructor(archive: ByteSink, payload: ByteSink | undefined) {
    this.#out = new SinkWriter(archive);
    this.#payload = payload === undefined ? null : new SinkWriter(payload);
  }

  /** Starts an archive whose root directory has `root` metadata. */
  static async create(
    archive: ByteSink,
    root: Metadata,
    options: PxarEncoderOptions = {},
  ): Promise<PxarEncoder> {
    if (kindOfMode(root.stat.mode) !== "directory") throw misuse("the root must be a directory");
    if (options.prelude !== undefined && options.payload === undefined) {
      throw misuse("a prelude needs a split archive (format version 2)");
    }
    const encoder = new PxarEncoder(archive, options.payload);
    await encoder.#run(async () => {
      if (encoder.#payload !== null) {
        await encoder.#payload.write(encodeHeader(PXAR.payloadStartMarker, 0));
        await encoder.#out.write(encodeItem(PXAR.formatVersion, encodeU64(FORMAT_VERSION_2)));
        if (options.prelude !== undefined) {
          await encoder.#out.write(encodeItem(PXAR.prelude, options.prelude));
        }
      }
      await encoder.#out.write(encodeMetadata(root));
      encoder.#stack.push(newFrame(null, 0, 0, 0n));
    });
    return encoder;
  }

  /** Bytes of archive written so far: the offset the next item will have. */
  get position(): number {
    return this.#out.position;
  }

  /** Where the next file's PAYLOAD header goes in the payload stream (split archives). */
  get payloadPosition(): number {
    return (this.#payload?.position ?? 0) + this.#payloadSkipped;
  }

  /** Directories open, the root counting as 1; 0 once finished. */
  get depth(): number {
    return this.#stack.length;
  }

  /** Adds one non-directory entry; returns where a regular file lies, for hard links to it. */
  add(name: string | Uint8Array, entry: EncoderEntry): Promise<HardlinkTarget | null> {
    return this.#run(() => this.#add(toBytes(name), entry));
  }

  /** Opens a subdirectory of the current directory; what follows goes inside it. */
  beginDirectory(name: string | Uint8Array, metadata: Metadata): Promise<void> {
    return this.#run(async () => {
      const bytes = toBytes(name);
      expectMode(metadata, "directory");
      const items = encodeMetadata(metadata);
      const filenameStart = this.#claimName(bytes);
      await this.#writeFilename(bytes);
      const start = this.#out.position;
      await this.#out.write(items);
      this.#stack.push(newFrame(bytes, start, filenameStart, hashFilename(bytes)));
    });
  }

  /** Closes the current subdirectory with its goodbye table. */
  endDirectory(): Promise<void> {
    return this.#run(async () => {
      if (this.#stack.length < 2) throw misuse("endDirectory without an open subdirectory");
      const frame = await this.#writeGoodbye();
      this.#current().children.push({
        hash: frame.hash,
        start: frame.filenameStart,
        size: this.#out.position - frame.filenameStart,
      });
    });
  }

  /**
   * Flushes the payload sink, then counts `bytes` that the caller places in the payload stream
   * itself, right away and before the encoder's next call (re-used chunks injected in metadata
   * mode), so that later payload offsets account for them.
   */
  advancePayload(bytes: number): Promise<void> {
    return this.#run(async () => {
      if (this.#payload === null) throw misuse("advancePayload needs a split archive");
      if (!Number.isSafeInteger(bytes) || bytes < 0) throw misuse(`cannot advance by ${bytes}`);
      await this.#payload.flush();
      this.#payloadSkipped += bytes;
    });
  }

  /** Closes the root directory and flushes both streams. */
  finish(): Promise<PxarEncoderSummary> {
    return this.#run(async () => {
      if (this.#stack.length !== 1) {
        throw misuse(`finish with ${this.#stack.length - 1} subdirectories still open`);
      }
      await this.#writeGoodbye();
      await this.#out.flush();
      if (this.#payload !== null) {
        await this.#payload.write(encodeHeader(PXAR.payloadTailMarker, 0));
        await this.#payload.flush();
      }
      this.#finished = true;
      return {
        archiveSize: this.#out.position,
        payloadSize: this.#payload === null ? null : this.payloadPosition,
      };
    });
  }

  async #add(name: Buffer, entry: EncoderEntry): Promise<HardlinkTarget | null> {
    if (entry.kind === "hardlink") {
      await this.#addHardlink(name, entry.target);
      return null;
    }
    // everything is checked before the first byte goes out, so a refused entry harms nothing
    expectMode(entry.metadata, entry.kind === "reused-file" ? "file" : entry.kind);
    const metadata = encodeMetadata(entry.metadata);
    const ending = this.#endingItem(entry);
    const start = this.#claimName(name);
    await this.#writeFilename(name);
    await this.#out.write(metadata);
    let size: number;
    if (entry.kind === "file") {
      size = await this.#writeContent(name, start, entry.size, entry.content);
    } else {
      if (ending !== null) await this.#out.write(ending);
      size = this.#out.position - start;
      // as a freshly written file records (pxar 1.0.0): an unchanged .mpxar stays byte-identical
      if (entry.kind === "reused-file") size += entry.size;
    }
    this.#current().children.push({ hash: hashFilename(name), start, size });
    const isFile = entry.kind === "file" || entry.kind === "reused-file";
    return isFile ? { start, path: this.#pathOf(name) } : null;
  }

  /** The checked item that ends a non-directory entry; null where there is none or it is streamed. */
  #endingItem(entry: Exclude<EncoderEntry, { kind: "hardlink" }>): Buffer | null {
    switch (entry.kind) {
      case "file":
        checkSize(entry.size);
        return null;
      case "reused-file":
        return this.#payloadRefItem(entry.payloadOffset, entry.size);
      case "symlink":
        return encodeItem(PXAR.symlink, withNul(checkPath(entry.target)));
      case "block-device":
      case "char-device":
        return encodeItem(PXAR.device, encodeDevice(checkDevice(entry.device)));
      default:
        return null;
    }
  }

  /**
   * Writes PAYLOAD (v1) or PAYLOAD_REF plus the payload (v2) for the file whose FILENAME is at
   * `start`; returns the size its goodbye record gets.
   */
  async #writeContent(
    name: Buffer,
    start: number,
    size: number,
    content: FileContent,
  ): Promise<number> {
    const target = this.#payload ?? this.#out;
    if (this.#payload !== null) {
      await this.#out.write(this.#payloadRefItem(this.payloadPosition, size));
    }
    await target.write(encodeHeader(PXAR.payload, size));
    const metaSize = this.#out.position - start;
    let received = 0;
    for await (const piece of content) {
      if (received + piece.length > size) {
        throw new ContentSizeMismatch(this.#pathText(name), size, received + piece.length);
      }
      received += piece.length;
      await target.write(piece);
    }
    if (received < size) throw new ContentSizeMismatch(this.#pathText(name), size, received);
    // pxar 1.0.0 records metadata + file size even when the bytes went to the payload stream
    return metaSize + size;
  }

  #payloadRefItem(offset: number, size: number): Buffer {
    if (this.#payload === null) throw misuse("payload references need a split archive");
    checkSize(size);
    if (!Number.isSafeInteger(offset) || offset < this.payloadPosition) {
      throw misuse(`payload offset ${offset} lies before the payload position`, {
        offset,
        payloadPosition: this.payloadPosition,
      });
    }
    return encodeItem(PXAR.payloadRef, encodePayloadRef({ offset, size }));
  }

  async #addHardlink(name: Buffer, target: HardlinkTarget): Promise<void> {
    const start = this.#out.position;
    if (!(target.start < start)) throw misuse("a hard link must point at an earlier file");
    if (target.path.length === 0 || target.path.length > MAX_PATH_LENGTH) {
      throw misuse(`hard link target path of ${target.path.length} bytes`);
    }
    this.#claimName(name);
    await this.#writeFilename(name);
    await this.#out.write(
      encodeItem(PXAR.hardlink, encodeHardlink(start - target.start, target.path)),
    );
    this.#current().children.push({
      hash: hashFilename(name),
      start,
      size: this.#out.position - start,
    });
  }

  async #writeFilename(name: Buffer): Promise<void> {
    await this.#out.write(encodeItem(PXAR.filename, withNul(name)));
  }

  /** Writes the current directory's goodbye table and pops it. */
  async #writeGoodbye(): Promise<DirectoryFrame> {
    const frame = this.#stack.pop()!;
    await this.#out.write(encodeGoodbye(frame.children, this.#out.position, frame.start));
    return frame;
  }

  /** Checks a child name and reserves it in the current directory; returns its FILENAME offset. */
  #claimName(name: Buffer): number {
    const problem = filenameProblem(name);
    if (problem !== undefined)
      throw misuse(`file name ${JSON.stringify(name.toString())} ${problem}`);
    const key = name.toString("latin1");
    const names = this.#current().names;
    if (names.has(key)) throw misuse(`${this.#pathText(name)} added twice`);
    names.add(key);
    return this.#out.position;
  }

  #current(): DirectoryFrame {
    const frame = this.#stack.at(-1);
    if (frame === undefined) throw misuse("the archive is finished");
    return frame;
  }

  /** The path of `name` in the current directory, from the root without a leading '/'. */
  #pathOf(name: Buffer): Buffer {
    const parts: Buffer[] = [];
    for (const frame of this.#stack) if (frame.name !== null) parts.push(frame.name, SLASH);
    parts.push(name);
    return Buffer.concat(parts);
  }

  #pathText(name: Buffer): string {
    return this.#pathOf(name).toString();
  }

  /**
   * Runs one call at a time. A failure after bytes went out leaves the encoder unusable, as its
   * output is partial; a call refused before writing anything leaves it as it was.
   */
  async #run<T>(step: () => Promise<T>): Promise<T> {
    if (this.#failed !== null) throw misuse("an earlier call failed", {}, { cause: this.#failed });
    if (this.#finished) throw misuse("the archive is finished");
    if (this.#busy) throw misuse("calls must not overlap: await each one");
    this.#busy = true;
    const written = this.#written();
    try {
      return await step();
    } catch (error) {
      if (this.#written() !== written) this.#failed = error;
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  #written(): number {
    return this.#out.position + (this.#payload?.position ?? 0);
  }
}

const SLASH = Buffer.from("/");

function newFrame(
  name: Buffer | null,
  start: number,
  filenameStart: number,
  hash: bigint,
): DirectoryFrame {
  return { name, start, filenameStart, hash, children: [], names: new Set<string>() };
}

/** A copy, as directory names stay on the stack while the caller may reuse its buffer. */
function toBytes(value: string | Uint8Array): Buffer {
  return typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
}

function expectMode(metadata: Metadata, kind: Exclude<EntryKind, "hardlink">): void {
  const actual = kindOfMode(metadata.stat.mode);
  if (actual !== kind) {
    throw misuse(`a ${kind} entry has the mode of a ${actual ?? "unknown type"}`, {
      mode: metadata.stat.mode.toString(8),
    });
  }
}

function checkPath(target: string | Uint8Array): Buffer {
  const bytes = toBytes(target);
  if (bytes.length === 0 || bytes.length > MAX_PATH_LENGTH || bytes.includes(0)) {
    throw misuse(
      `symlink target of ${bytes.length} bytes must be 1…${MAX_PATH_LENGTH} without NUL`,
    );
  }
  return bytes;
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw misuse(`file size ${size}`);
}

function checkDevice(device: DeviceNumber): DeviceNumber {
  for (const part of [device.major, device.minor]) {
    if (!Number.isSafeInteger(part) || part < 0) throw misuse(`device number ${part}`);
  }
  return device;
}
