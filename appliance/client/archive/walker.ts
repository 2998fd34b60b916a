/**
 * Turns a directory tree into a pxar archive (and optionally catalog entries), as the PBS client
 * archiver does (pxar-format.md §3–§4): children in bytewise name order, depth first; regular
 * files streamed in large reads; hard links by device and inode, pointing at the first path met;
 * exclude patterns from the caller and from `.pxarexclude` files; one file system unless told
 * otherwise, never the contents of proc, sysfs and other virtual file systems. An entry that
 * cannot be read is reported through `onWarning` and left out; the archive stays valid.
 */
import { type BigIntStats, constants } from "node:fs";
import { type FileHandle, lstat, open, readdir, readFile, readlink, stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { CatalogWriter } from "../../format/catalog.js";
import { MODE } from "../../format/pxar/constants.js";
import {
  type HardlinkTarget,
  PxarEncoder,
  type PxarEncoderSummary,
} from "../../format/pxar/encoder.js";
import type { ByteSink } from "../../format/pxar/sink.js";
import { type Metadata, metadataOf } from "../../format/pxar/types.js";
import { splitDevice } from "./device-number.js";
import { ArchiveError, errnoCode } from "./errors.js";
import {
  matchPath,
  type PathPattern,
  parseExcludeFile,
  parsePattern,
  patternLines,
} from "./exclude.js";
import { DEFAULT_READ_SIZE, type FileReadEvents, fileContent } from "./file-content.js";
import { type FileSystemInfo, fileSystemOf } from "./file-systems.js";
import { Lookahead, type LookaheadStart, mapBounded } from "./lookahead.js";
import { readMetadata, statOf } from "./metadata.js";
import {
  type ArchiveWarningKind,
  displayPath,
  messageOf,
  type WarningHandler,
} from "./warnings.js";

export interface EncodeTreeOptions {
  /** `--exclude` patterns (PBS syntax, see exclude.ts); `!` re-includes. */
  readonly exclude?: readonly string[];
  /** Stay on the root's file system (default true); virtual file systems are skipped anyway. */
  readonly oneFileSystem?: boolean;
  /**
   * Receives an entry for everything archived, inside the directory the caller opened for this
   * archive (`startDirectory("root.pxar.didx")` before, `endDirectory()` after).
   */
  readonly catalog?: CatalogWriter;
  /** The `.ppxar` sink: writes a split archive, with the patterns in its prelude. */
  readonly payload?: ByteSink;
  readonly onWarning?: WarningHandler;
  /** Bytes per read of a regular file (default 4 MiB). */
  readonly readSize?: number;
  /** Called before a listed regular file is opened; tests change the file here. */
  readonly beforeFileRead?: (path: string) => void | Promise<void>;
  /** Puts a layer between the walk and the encoder (split archives: payload re-use). */
  readonly wrapEncoder?: (encoder: PxarEncoder) => TreeEncoder;
  /**
   * Entries whose lstat, open and metadata are read ahead of the one being archived, and the
   * most descriptors held open for them (default 32; 0 reads one entry at a time).
   */
  readonly readAhead?: number;
}

/** Enough to keep libuv's thread pool and the disk busy, few enough descriptors to be harmless. */
export const DEFAULT_READ_AHEAD = 32;

/** What the walk writes into: a PxarEncoder, or a layer around one. */
export type TreeEncoder = Pick<PxarEncoder, "add" | "beginDirectory" | "endDirectory" | "finish">;

/** What the walk did; `bytesRead` counts file content read from disk. */
export interface WalkCounters {
  bytesRead: number;
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  devices: number;
  fifos: number;
  sockets: number;
  excluded: number;
  warnings: number;
}

export interface EncodeTreeResult extends PxarEncoderSummary {
  readonly counters: WalkCounters;
}

/** The root file the PBS client adds to a v1 archive made with `--exclude` patterns. */
const CLI_EXCLUDE_FILE = Buffer.from(".pxarexclude-cli");
const EXCLUDE_FILE = ".pxarexclude";
const SLASH = Buffer.from("/");

interface Directory {
  readonly absolute: Buffer;
  /** From the archive root, no leading '/'; empty for the root. */
  readonly relative: Buffer;
  readonly dev: bigint;
  readonly fs: FileSystemInfo;
}

interface Listed {
  readonly name: Buffer;
  readonly absolute: Buffer;
  readonly relative: Buffer;
  readonly stat: BigIntStats;
}

/** An entry's metadata with the problems met reading it, reported when the entry is archived. */
interface MetadataRead {
  readonly metadata: Metadata;
  readonly problems: readonly { readonly part: string; readonly error: unknown }[];
}

/** What was read ahead for an entry, handed over when the walk reaches it. */
type ReadAhead =
  | { readonly kind: "file"; readonly handle: FileHandle; readonly isFile: boolean }
  | { readonly kind: "directory"; readonly metadata: MetadataRead }
  | { readonly kind: "symlink"; readonly target: Buffer }
  | { readonly kind: "failed"; readonly error: unknown };

/** Archives the tree at `root` into `sink`; resolves once the archive is complete. */
export async function encodeTree(
  root: string,
  sink: ByteSink,
  options: EncodeTreeOptions = {},
): Promise<EncodeTreeResult> {
  const absolute = Buffer.from(resolve(root));
  const rootStat = await stat(absolute, { bigint: true });
  if (!rootStat.isDirectory()) {
    throw new ArchiveError("not-a-directory", `${root} is not a directory`, { root });
  }
  const fs = await fileSystemOf(absolute);
  if (fs.virtualName !== null) {
    throw new ArchiveError(
      "virtual-filesystem",
      `refusing to archive ${fs.virtualName} at ${root}`,
      {
        root,
      },
    );
  }
  const patterns = (options.exclude ?? []).map(parseCliPattern);
  const walker = new TreeWalker(options, rootStat.dev, patterns);
  const rootMetadata = await walker.rootMetadata(absolute, rootStat, fs);
  const prelude =
    options.payload !== undefined && patterns.length > 0
      ? Buffer.from(JSON.stringify({ "exclude-patterns": patternLines(patterns) }))
      : undefined;
  const pxar = await PxarEncoder.create(sink, rootMetadata, {
    ...(options.payload === undefined ? {} : { payload: options.payload }),
    ...(prelude === undefined ? {} : { prelude }),
  });
  const encoder = options.wrapEncoder?.(pxar) ?? pxar;
  await walker.walk(encoder, { absolute, relative: Buffer.alloc(0), dev: rootStat.dev, fs });
  if (options.payload === undefined && patterns.length > 0) {
    await walker.addCliExcludeFile(encoder, patternLines(patterns));
  }
  const summary = await encoder.finish();
  return { ...summary, counters: walker.counters };
}

function parseCliPattern(text: string): PathPattern {
  try {
    return parsePattern(text);
  } catch (error) {
    throw new ArchiveError(
      "bad-pattern",
      `bad exclude pattern ${JSON.stringify(text)}`,
      {
        pattern: text,
      },
      { cause: error },
    );
  }
}

/** The walk's state: counters, hard links seen, the patterns in force. */
class TreeWalker {
  readonly counters: WalkCounters = {
    bytesRead: 0,
    files: 0,
    directories: 0,
    symlinks: 0,
    hardlinks: 0,
    devices: 0,
    fifos: 0,
    sockets: 0,
    excluded: 0,
    warnings: 0,
  };
  readonly #options: EncodeTreeOptions;
  readonly #rootDev: bigint;
  readonly #patterns: PathPattern[];
  readonly #hardlinks = new Map<string, HardlinkTarget>();
  readonly #readSize: number;
  readonly #readAhead: number;
  /** Descriptors opened ahead of the walk and not yet handed over. */
  #descriptorsAhead = 0;
  #encoder: TreeEncoder | null = null;

  constructor(options: EncodeTreeOptions, rootDev: bigint, patterns: PathPattern[]) {
    this.#options = options;
    this.#rootDev = rootDev;
    this.#patterns = [...patterns];
    this.#readSize = options.readSize ?? DEFAULT_READ_SIZE;
    if (!Number.isSafeInteger(this.#readSize) || this.#readSize < 1) {
      throw new RangeError(`readSize ${options.readSize} must be a positive integer`);
    }
    this.#readAhead = options.readAhead ?? DEFAULT_READ_AHEAD;
    if (!Number.isSafeInteger(this.#readAhead) || this.#readAhead < 0) {
      throw new RangeError(`readAhead ${options.readAhead} must be a non-negative integer`);
    }
  }

  async rootMetadata(absolute: Buffer, rootStat: BigIntStats, fs: FileSystemInfo) {
    const root: Listed = {
      name: Buffer.alloc(0),
      absolute,
      relative: Buffer.alloc(0),
      stat: rootStat,
    };
    const handle = await open(absolute, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      return this.#metadata(root, handle.fd, fs) ?? metadataOf(statOf(rootStat, 0));
    } finally {
      await handle.close();
    }
  }

  async walk(encoder: TreeEncoder, directory: Directory): Promise<void> {
    this.#encoder = encoder;
    await this.#walkDirectory(directory);
  }

  /** The synthetic root file listing the `--exclude` patterns (v1 archives, after the rest). */
  async addCliExcludeFile(encoder: TreeEncoder, lines: string): Promise<void> {
    const content = Buffer.from(lines);
    const metadata = metadataOf({
      mode: MODE.regular | 0o600,
      flags: 0,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      mtime: { secs: 0, nanos: 0 },
    });
    await encoder.add(CLI_EXCLUDE_FILE, {
      kind: "file",
      metadata,
      size: content.length,
      content: [content],
    });
    this.#options.catalog?.addFile(CLI_EXCLUDE_FILE, content.length, 0);
  }

  get #out(): TreeEncoder {
    return this.#encoder!;
  }

  async #walkDirectory(directory: Directory): Promise<void> {
    const inherited = this.#patterns.length;
    try {
      await this.#readExcludeFile(directory);
      await this.#addEntries(directory, await this.#list(directory));
    } finally {
      this.#patterns.length = inherited;
    }
  }

  /** Archives the entries in order, their metadata read ahead (see `readAhead`). */
  async #addEntries(directory: Directory, entries: Listed[]): Promise<void> {
    const ahead = new Lookahead(entries, this.#readAhead, (entry) =>
      this.#startReadAhead(directory, entry),
    );
    try {
      for (const [index, entry] of entries.entries()) {
        await this.#addEntry(directory, entry, ahead.take(index));
      }
    } finally {
      await ahead.dispose((read) => this.#discard(read));
    }
  }

  /** Starts what can be read before the entry's turn: no file content, no warnings yet. */
  #startReadAhead(directory: Directory, entry: Listed): LookaheadStart<ReadAhead> {
    const type = Number(entry.stat.mode) & MODE.typeMask;
    if (type === MODE.symlink) return this.#readLinkAhead(entry);
    const opens =
      (type === MODE.directory && entry.stat.dev === directory.dev) ||
      // hard links may not be opened at all, and the test hook must run before the open
      (type === MODE.regular && entry.stat.nlink === 1n && !this.#options.beforeFileRead);
    if (!opens) return null;
    if (this.#descriptorsAhead >= this.#readAhead) return "later";
    this.#descriptorsAhead++;
    return type === MODE.directory
      ? this.#readDirectoryAhead(directory, entry)
      : this.#openFileAhead(entry);
  }

  async #readLinkAhead(entry: Listed): Promise<ReadAhead> {
    try {
      return { kind: "symlink", target: await readlink(entry.absolute, { encoding: "buffer" }) };
    } catch (error) {
      return { kind: "failed", error };
    }
  }

  async #readDirectoryAhead(directory: Directory, entry: Listed): Promise<ReadAhead> {
    try {
      let handle: FileHandle;
      try {
        handle = await openEntry(entry.absolute, constants.O_RDONLY | constants.O_DIRECTORY);
      } catch (error) {
        return { kind: "failed", error };
      }
      try {
        return { kind: "directory", metadata: readEntryMetadata(entry, handle.fd, directory.fs) };
      } finally {
        await handle.close();
      }
    } finally {
      this.#descriptorsAhead--;
    }
  }

  /** Opens a regular file and checks it still is one; its descriptor counts until handed over. */
  async #openFileAhead(entry: Listed): Promise<ReadAhead> {
    let handle: FileHandle;
    try {
      handle = await openEntry(entry.absolute, constants.O_RDONLY);
    } catch (error) {
      this.#descriptorsAhead--;
      return { kind: "failed", error };
    }
    try {
      return { kind: "file", handle, isFile: (await handle.stat()).isFile() };
    } catch (error) {
      this.#descriptorsAhead--;
      await handle.close();
      throw error;
    }
  }

  /** A read-ahead result the walk never reached (it stopped on an error). */
  async #discard(read: ReadAhead): Promise<void> {
    if (read.kind !== "file") return;
    this.#descriptorsAhead--;
    await read.handle.close();
  }

  async #readExcludeFile(directory: Directory): Promise<void> {
    const path = Buffer.concat([directory.absolute, SLASH, Buffer.from(EXCLUDE_FILE)]);
    let content: Buffer;
    try {
      const handle = await open(
        path,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
      try {
        if (!(await handle.stat()).isFile()) return;
        content = await readFile(handle);
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return;
      const where = childRelative(directory.relative, Buffer.from(EXCLUDE_FILE));
      this.#warn("unreadable", where, `cannot read ${EXCLUDE_FILE}: ${messageOf(error)}`, error);
      return;
    }
    const { patterns, bad } = parseExcludeFile(content, directory.relative);
    for (const { line, error } of bad) {
      const where = childRelative(directory.relative, Buffer.from(EXCLUDE_FILE));
      this.#warn(
        "bad-pattern",
        where,
        `ignoring pattern ${JSON.stringify(line)}: ${messageOf(error)}`,
        error,
      );
    }
    this.#patterns.push(...patterns);
  }

  /** The directory's entries not excluded, with their lstat, in bytewise name order. */
  async #list(directory: Directory): Promise<Listed[]> {
    let names: Buffer[];
    try {
      names = await readdir(directory.absolute, { encoding: "buffer" });
    } catch (error) {
      this.#warn("unreadable", directory.relative, `cannot list: ${messageOf(error)}`, error);
      return [];
    }
    const isRoot = directory.relative.length === 0;
    if (isRoot) names = names.filter((name) => !name.equals(CLI_EXCLUDE_FILE));
    const stats = await mapBounded(names, this.#readAhead, (name) =>
      lstatOrError(Buffer.concat([directory.absolute, SLASH, name])),
    );
    const listed: Listed[] = [];
    for (const [index, name] of names.entries()) {
      const relative = childRelative(directory.relative, name);
      const absolute = Buffer.concat([directory.absolute, SLASH, name]);
      const statted = stats[index]!;
      if ("error" in statted) {
        // gone between readdir and lstat: as if it had never been listed
        const { error } = statted;
        if (errnoCode(error) !== "ENOENT") {
          this.#warn("unreadable", relative, `cannot stat: ${messageOf(error)}`, error);
        }
        continue;
      }
      const entryStat = statted.stat;
      const matchAs = Buffer.concat([SLASH, relative]);
      if (matchPath(this.#patterns, matchAs, Number(entryStat.mode)) === "exclude") {
        this.counters.excluded++;
        continue;
      }
      listed.push({ name, absolute, relative, stat: entryStat });
    }
    return listed.sort((a, b) => Buffer.compare(a.name, b.name));
  }

  async #addEntry(directory: Directory, entry: Listed, ahead?: Promise<ReadAhead>): Promise<void> {
    const type = Number(entry.stat.mode) & MODE.typeMask;
    switch (type) {
      case MODE.directory:
        return this.#addDirectory(directory, entry, ahead);
      case MODE.regular:
        return this.#addFile(directory, entry, ahead);
      case MODE.symlink:
        return this.#addSymlink(directory, entry, ahead);
      case MODE.blockDevice:
      case MODE.charDevice:
        return this.#addDevice(directory, entry, type === MODE.blockDevice);
      case MODE.fifo:
      case MODE.socket:
        return this.#addSpecial(directory, entry, type === MODE.fifo);
      default:
        this.#warn("unsupported-type", entry.relative, `unknown file type 0o${type.toString(8)}`);
    }
  }

  async #addDirectory(parent: Directory, entry: Listed, ahead?: Promise<ReadAhead>) {
    const opened =
      ahead === undefined
        ? await this.#readDirectory(parent, entry)
        : this.#directoryAhead(parent, entry, await ahead);
    if (opened === null) return;
    const { fs, skip, metadata } = opened;
    const catalog = this.#options.catalog;
    await this.#out.beginDirectory(entry.name, metadata);
    catalog?.startDirectory(entry.name);
    this.counters.directories++;
    if (skip === null) {
      const { absolute, relative } = entry;
      await this.#walkDirectory({ absolute, relative, dev: entry.stat.dev, fs });
    } else {
      const what =
        skip === "mount-point" ? "another file system" : `virtual file system ${fs.virtualName}`;
      this.#warn(skip, entry.relative, `not descending into ${what}`);
    }
    await this.#out.endDirectory();
    await catalog?.endDirectory();
  }

  /** A directory's metadata, its file system and whether to skip its contents; null if unread. */
  async #readDirectory(parent: Directory, entry: Listed): Promise<OpenedDirectory | null> {
    const handle = await this.#open(entry, constants.O_RDONLY | constants.O_DIRECTORY);
    if (handle === null) return null;
    let fs = parent.fs;
    let skip: ArchiveWarningKind | null = null;
    let metadata: Metadata | null;
    try {
      if (entry.stat.dev !== parent.dev) {
        fs = await fileSystemOf(entry.absolute);
        if (fs.virtualName !== null) skip = "virtual-filesystem";
        else if (this.#options.oneFileSystem !== false && entry.stat.dev !== this.#rootDev) {
          skip = "mount-point";
        }
      }
      metadata = this.#metadata(entry, handle.fd, fs);
    } finally {
      await handle.close();
    }
    return metadata === null ? null : { fs, skip, metadata };
  }

  /** As #readDirectory, from what was read ahead (only directories on the parent's device). */
  #directoryAhead(parent: Directory, entry: Listed, read: ReadAhead): OpenedDirectory | null {
    if (read.kind === "failed") {
      this.#openFailed(entry, read.error);
      return null;
    }
    if (read.kind !== "directory") throw new Error("read ahead a directory as a non-directory");
    const metadata = this.#settle(entry, read.metadata);
    return metadata === null ? null : { fs: parent.fs, skip: null, metadata };
  }

  async #addFile(directory: Directory, entry: Listed, ahead?: Promise<ReadAhead>): Promise<void> {
    const inode = `${entry.stat.dev}:${entry.stat.ino}`;
    const linked = entry.stat.nlink > 1n ? this.#hardlinks.get(inode) : undefined;
    if (linked !== undefined) {
      await this.#out.add(entry.name, { kind: "hardlink", target: linked });
      this.#options.catalog?.add(entry.name, "hardlink");
      this.counters.hardlinks++;
      return;
    }
    await this.#options.beforeFileRead?.(displayPath(entry.relative));
    const opened =
      ahead === undefined ? await this.#openFile(entry) : this.#fileAhead(entry, await ahead);
    if (opened === null) return;
    const { handle, isFile } = opened;
    try {
      if (!isFile) {
        this.#warn("changed-type", entry.relative, "is no longer a regular file");
        return;
      }
      const metadata = this.#metadata(entry, handle.fd, directory.fs);
      if (metadata === null) return;
      const size = Number(entry.stat.size);
      const content = fileContent(handle, size, this.#readSize, this.#readEvents(entry.relative));
      const target = await this.#out.add(entry.name, { kind: "file", metadata, size, content });
      this.#options.catalog?.addFile(entry.name, size, metadata.stat.mtime.secs);
      this.counters.files++;
      if (entry.stat.nlink > 1n && target !== null) this.#hardlinks.set(inode, target);
    } finally {
      await handle.close();
    }
  }

  /** Opens a regular file and checks it still is one; null when it cannot be opened. */
  async #openFile(entry: Listed): Promise<OpenedFile | null> {
    const handle = await this.#open(entry, constants.O_RDONLY);
    if (handle === null) return null;
    try {
      return { handle, isFile: (await handle.stat()).isFile() };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** As #openFile, from what was read ahead; the descriptor is the walk's from here on. */
  #fileAhead(entry: Listed, read: ReadAhead): OpenedFile | null {
    if (read.kind === "failed") {
      this.#openFailed(entry, read.error);
      return null;
    }
    if (read.kind !== "file") throw new Error("read ahead a file as a non-file");
    this.#descriptorsAhead--;
    return read;
  }

  async #addSymlink(directory: Directory, entry: Listed, ahead?: Promise<ReadAhead>) {
    const read = await (ahead ?? this.#readLinkAhead(entry));
    if (read.kind === "failed") {
      this.#openFailed(entry, read.error);
      return;
    }
    if (read.kind !== "symlink") throw new Error("read ahead a symlink as a non-symlink");
    const { target } = read;
    const metadata = this.#metadata(entry, null, directory.fs);
    if (metadata === null) return;
    await this.#out.add(entry.name, { kind: "symlink", metadata, target });
    this.#options.catalog?.add(entry.name, "symlink");
    this.counters.symlinks++;
  }

  async #addDevice(directory: Directory, entry: Listed, block: boolean): Promise<void> {
    const metadata = this.#metadata(entry, null, directory.fs);
    if (metadata === null) return;
    const kind = block ? "block-device" : "char-device";
    await this.#out.add(entry.name, { kind, metadata, device: splitDevice(entry.stat.rdev) });
    this.#options.catalog?.add(entry.name, kind);
    this.counters.devices++;
  }

  async #addSpecial(directory: Directory, entry: Listed, fifo: boolean): Promise<void> {
    const metadata = this.#metadata(entry, null, directory.fs);
    if (metadata === null) return;
    const kind = fifo ? "fifo" : "socket";
    await this.#out.add(entry.name, { kind, metadata });
    this.#options.catalog?.add(entry.name, kind);
    if (fifo) this.counters.fifos++;
    else this.counters.sockets++;
  }

  /** Opens the entry (see openEntry); null, after a warning, when it cannot. */
  async #open(entry: Listed, flags: number): Promise<FileHandle | null> {
    try {
      return await openEntry(entry.absolute, flags);
    } catch (error) {
      this.#openFailed(entry, error);
      return null;
    }
  }

  #openFailed(entry: Listed, error: unknown): void {
    const code = errnoCode(error);
    if (code === "ENOENT") {
      this.#warn("vanished", entry.relative, "vanished while the archive was made", error);
    } else if (code === "ELOOP" || code === "ENOTDIR" || code === "EINVAL") {
      this.#warn("changed-type", entry.relative, `changed its type: ${messageOf(error)}`, error);
    } else {
      this.#warn("unreadable", entry.relative, `cannot read: ${messageOf(error)}`, error);
    }
  }

  /** The entry's metadata; null (after a warning) when it vanished meanwhile. */
  #metadata(entry: Listed, fd: number | null, fs: FileSystemInfo): Metadata | null {
    return this.#settle(entry, readEntryMetadata(entry, fd, fs));
  }

  /** Reports the problems met reading the metadata; null when they show the entry vanished. */
  #settle(entry: Listed, read: MetadataRead): Metadata | null {
    let vanished = false;
    for (const { part, error } of read.problems) {
      if (errnoCode(error) === "ENOENT") vanished = true;
      else
        this.#warn("metadata", entry.relative, `cannot read ${part}: ${messageOf(error)}`, error);
    }
    if (!vanished) return read.metadata;
    this.#warn("vanished", entry.relative, "vanished while the archive was made");
    return null;
  }

  #readEvents(relative: Buffer): FileReadEvents {
    return {
      read: (bytes) => {
        this.counters.bytesRead += bytes;
      },
      grew: (size) =>
        this.#warn("grew", relative, `grew while read; archived its first ${size} bytes`),
      shrank: (readable, size) =>
        this.#warn(
          "shrank",
          relative,
          `shrank while read: ${readable} of ${size} bytes, padded with zeros`,
        ),
      failed: (offset, error) =>
        this.#warn(
          "read-error",
          relative,
          `read failed at byte ${offset}, padded with zeros: ${messageOf(error)}`,
          error,
        ),
    };
  }

  #warn(kind: ArchiveWarningKind, relative: Buffer, message: string, cause?: unknown): void {
    this.counters.warnings++;
    const path = displayPath(relative);
    this.#options.onWarning?.({ kind, path, message: `${path}: ${message}`, cause });
  }
}

interface OpenedDirectory {
  readonly fs: FileSystemInfo;
  readonly skip: ArchiveWarningKind | null;
  readonly metadata: Metadata;
}

interface OpenedFile {
  readonly handle: FileHandle;
  readonly isFile: boolean;
}

/** Opens without following symlinks, blocking on a FIFO swapped in, or touching the atime. */
async function openEntry(absolute: Buffer, flags: number): Promise<FileHandle> {
  const base = flags | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
  try {
    return await open(absolute, base | constants.O_NOATIME);
  } catch (error) {
    // O_NOATIME is only allowed to the file's owner (or with CAP_FOWNER)
    if (errnoCode(error) !== "EPERM") throw error;
    return await open(absolute, base);
  }
}

async function lstatOrError(path: Buffer): Promise<{ stat: BigIntStats } | { error: unknown }> {
  try {
    return { stat: await lstat(path, { bigint: true }) };
  } catch (error) {
    return { error };
  }
}

/** Reads the metadata, keeping the problems met for the walk to report in its own order. */
function readEntryMetadata(entry: Listed, fd: number | null, fs: FileSystemInfo): MetadataRead {
  const problems: { part: string; error: unknown }[] = [];
  const metadata = readMetadata(
    { path: entry.absolute, stat: entry.stat, fd, projectIds: fs.hasProjectIds },
    (part, error) => problems.push({ part, error }),
  );
  return { metadata, problems };
}

function childRelative(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, SLASH, name]);
}
