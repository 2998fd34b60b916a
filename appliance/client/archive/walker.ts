/**
 * Turns a directory tree into a pxar archive (and optionally catalog entries), as the PBS client
 * archiver does (pxar-format.md §3–§4): children in bytewise name order, depth first; regular
 * files streamed in large reads; hard links by device and inode, pointing at the first path met;
 * exclude patterns from the caller and from `.pxarexclude` files; one file system unless told
 * otherwise, never the contents of proc, sysfs and other virtual file systems. An entry that
 * cannot be read is reported through `onWarning` and left out; the archive stays valid.
 */
import { constants } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
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
import { type EntryStat, type Listing, listDirectory } from "../../native/directory-listing.js";
import {
  type EntryKind,
  type EntryParts,
  type EntryRead,
  type EntryRequest,
  type ListingRead,
  readEntries,
} from "../../native/entry-reads.js";
import { splitDevice } from "./device-number.js";
import { ArchiveError, errnoCode } from "./errors.js";
import {
  matchPath,
  type PathPattern,
  parseExcludeFile,
  parsePattern,
  patternLines,
} from "./exclude.js";
import { DEFAULT_READ_SIZE, type FileReadEvents, fileContentAt } from "./file-content.js";
import { type FileSystemInfo, fileSystemOf } from "./file-systems.js";
import { BatchLookahead } from "./lookahead.js";
import { entryMetadata, entryStatOf, statOf } from "./metadata.js";
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
   * Entries whose metadata is read ahead of the one being archived, in native batches of up to
   * READ_BATCH (default 32; 0 reads each entry alone at its turn). A directory read ahead comes
   * with its listing and, where no exclude pattern applies, with what is below it as far as the
   * batch's bound allows. No descriptor stays open for anything read ahead.
   */
  readonly readAhead?: number;
}

/** Enough to keep libuv's thread pool and the disk busy, few enough results to hold. */
export const DEFAULT_READ_AHEAD = 32;
/** Entries read per native call: round trips paid once per batch, not several times per entry. */
const READ_BATCH = 16;

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
  /** Its listing, when read with its entry. */
  readonly listing?: ListingRead | null;
}

interface Listed {
  readonly name: Buffer;
  readonly absolute: Buffer;
  readonly relative: Buffer;
  readonly stat: EntryStat;
  /** What was read of it with its directory's listing, if anything. */
  readonly read?: EntryRead;
}

/** What was read about an entry that could be opened (or its link read). */
type EntryReadOk = Extract<EntryRead, { failed: null }>;

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
  const rootMetadata = await walker.rootMetadata(absolute, entryStatOf(rootStat), fs);
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

  async rootMetadata(absolute: Buffer, rootStat: EntryStat, fs: FileSystemInfo) {
    const root: Listed = {
      name: Buffer.alloc(0),
      absolute,
      relative: Buffer.alloc(0),
      stat: rootStat,
    };
    const [read] = await readEntries(
      [{ path: absolute, kind: "root", projectId: fs.hasProjectIds }],
      EXCLUDE_FILE,
    );
    if (read!.failed !== null) throw read!.failed;
    return this.#metadata(root, read!.parts) ?? metadataOf(statOf(rootStat, 0));
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
      const listing = directory.listing ?? (await listDirectory(directory.absolute, EXCLUDE_FILE));
      // the exclude file is read whenever it may exist, as if before the listing
      if (listing.failed !== null || listing.probeCode !== "ENOENT") {
        await this.#readExcludeFile(directory);
      }
      if (listing.failed !== null) {
        const error = listing.failed;
        this.#warn("unreadable", directory.relative, `cannot list: ${messageOf(error)}`, error);
        return;
      }
      await this.#addEntries(directory, this.#listed(directory, listing));
    } finally {
      this.#patterns.length = inherited;
    }
  }

  /** Archives the entries in order, their metadata read ahead (see `readAhead`). */
  async #addEntries(directory: Directory, entries: Listed[]): Promise<void> {
    const ahead = new BatchLookahead(entries, {
      depth: this.#readAhead,
      batchSize: Math.max(1, Math.min(READ_BATCH, this.#readAhead)),
      // the test hook must run before a file is opened
      ahead: (entry) =>
        entry.read === undefined &&
        kindOf(entry) !== null &&
        (kindOf(entry) !== "file" || !this.#options.beforeFileRead),
      read: (batch) =>
        readEntries(
          batch.map((entry) => this.#request(directory, entry)),
          EXCLUDE_FILE,
        ),
    });
    try {
      for (const [index, entry] of entries.entries()) {
        const read = ahead.take(index);
        await this.#addEntry(directory, entry, entry.read ?? read);
      }
    } finally {
      await ahead.settle();
    }
  }

  /** What to read about an entry, by what its lstat said it is. */
  #request(directory: Directory, entry: Listed): EntryRequest {
    const kind = kindOf(entry)!;
    const path = entry.absolute;
    if (kind === "directory" && entry.stat.dev !== directory.dev) {
      // a mount point's file system is known at its turn: the id is read, dropped if unused
      return { path, kind, projectId: true };
    }
    const projectId = (kind === "directory" || kind === "file") && directory.fs.hasProjectIds;
    if (kind !== "directory" || this.#readAhead === 0) return { path, kind, projectId };
    // its children are read with it only where nothing can exclude them (but its own
    // .pxarexclude, the probe) and no test hook must run before files are opened
    const readChildren = this.#patterns.length === 0 && !this.#options.beforeFileRead;
    return { path, kind, projectId, list: true, readChildren };
  }

  /** Reads an entry at its turn (not read ahead). */
  async #readNow(directory: Directory, entry: Listed): Promise<EntryRead> {
    const [read] = await readEntries([this.#request(directory, entry)], EXCLUDE_FILE);
    return read!;
  }

  /** The entry's read, from ahead or now; null, after a warning, when it cannot be opened. */
  async #read(
    directory: Directory,
    entry: Listed,
    ahead?: EntryRead | Promise<EntryRead>,
  ): Promise<EntryReadOk | null> {
    const read = await (ahead ?? this.#readNow(directory, entry));
    if (read.failed === null) return read;
    // a descriptor that cannot be fstat-ed is a bug, not a property of the entry
    if (read.part === "fstat") throw read.failed;
    this.#openFailed(entry, read.failed);
    return null;
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
  #listed(directory: Directory, listing: Listing | ListingRead): Listed[] {
    const isRoot = directory.relative.length === 0;
    const listed: Listed[] = [];
    for (const [index, name] of listing.names.entries()) {
      if (isRoot && name.equals(CLI_EXCLUDE_FILE)) continue;
      const relative = childRelative(directory.relative, name);
      const entryStat = listing.stats[index]!;
      if (entryStat instanceof Error) {
        // gone between readdir and lstat: as if it had never been listed
        const error = entryStat;
        if (errnoCode(error) !== "ENOENT") {
          this.#warn("unreadable", relative, `cannot stat: ${messageOf(error)}`, error);
        }
        continue;
      }
      if (this.#excluded(relative, entryStat.mode)) {
        this.counters.excluded++;
        continue;
      }
      const absolute = Buffer.concat([directory.absolute, SLASH, name]);
      const read = "children" in listing ? listing.children?.[index] : undefined;
      listed.push({ name, absolute, relative, stat: entryStat, ...(read && { read }) });
    }
    return listed.sort((a, b) => Buffer.compare(a.name, b.name));
  }

  #excluded(relative: Buffer, mode: number): boolean {
    // most walks have no pattern at all: no path to build for each entry
    if (this.#patterns.length === 0) return false;
    return matchPath(this.#patterns, Buffer.concat([SLASH, relative]), mode) === "exclude";
  }

  async #addEntry(
    directory: Directory,
    entry: Listed,
    ahead?: EntryRead | Promise<EntryRead>,
  ): Promise<void> {
    const type = entry.stat.mode & MODE.typeMask;
    switch (type) {
      case MODE.directory:
        return this.#addDirectory(directory, entry, ahead);
      case MODE.regular:
        return this.#addFile(directory, entry, ahead);
      case MODE.symlink:
        return this.#addSymlink(directory, entry, ahead);
      case MODE.blockDevice:
      case MODE.charDevice:
        return this.#addDevice(directory, entry, type === MODE.blockDevice, ahead);
      case MODE.fifo:
      case MODE.socket:
        return this.#addSpecial(directory, entry, type === MODE.fifo, ahead);
      default:
        this.#warn("unsupported-type", entry.relative, `unknown file type 0o${type.toString(8)}`);
    }
  }

  async #addDirectory(parent: Directory, entry: Listed, ahead?: EntryRead | Promise<EntryRead>) {
    const opened = await this.#readDirectory(parent, entry, ahead);
    if (opened === null) return;
    const { fs, skip, metadata, listing } = opened;
    const catalog = this.#options.catalog;
    await this.#out.beginDirectory(entry.name, metadata);
    catalog?.startDirectory(entry.name);
    this.counters.directories++;
    if (skip === null) {
      const { absolute, relative } = entry;
      await this.#walkDirectory({ absolute, relative, dev: entry.stat.dev, fs, listing });
    } else {
      const what =
        skip === "mount-point" ? "another file system" : `virtual file system ${fs.virtualName}`;
      this.#warn(skip, entry.relative, `not descending into ${what}`);
    }
    await this.#out.endDirectory();
    await catalog?.endDirectory();
  }

  /** A directory's metadata, its file system and whether to skip its contents; null if unread. */
  async #readDirectory(
    parent: Directory,
    entry: Listed,
    ahead?: EntryRead | Promise<EntryRead>,
  ): Promise<OpenedDirectory | null> {
    const read = await this.#read(parent, entry, ahead);
    if (read === null) return null;
    let fs = parent.fs;
    let skip: ArchiveWarningKind | null = null;
    let parts = read.parts;
    if (entry.stat.dev !== parent.dev) {
      fs = await fileSystemOf(entry.absolute);
      if (fs.virtualName !== null) skip = "virtual-filesystem";
      else if (this.#options.oneFileSystem !== false && entry.stat.dev !== this.#rootDev) {
        skip = "mount-point";
      }
      if (!fs.hasProjectIds) parts = { ...parts, projectId: null };
    }
    const metadata = this.#metadata(entry, parts);
    return metadata === null ? null : { fs, skip, metadata, listing: read.listing };
  }

  async #addFile(
    directory: Directory,
    entry: Listed,
    ahead?: EntryRead | Promise<EntryRead>,
  ): Promise<void> {
    const inode = `${entry.stat.dev}:${entry.stat.ino}`;
    const linked = entry.stat.nlink > 1 ? this.#hardlinks.get(inode) : undefined;
    if (linked !== undefined) {
      // what was read ahead for it is dropped: it holds no descriptor
      await this.#out.add(entry.name, { kind: "hardlink", target: linked });
      this.#options.catalog?.add(entry.name, "hardlink");
      this.counters.hardlinks++;
      return;
    }
    await this.#options.beforeFileRead?.(displayPath(entry.relative));
    const read = await this.#read(directory, entry, ahead);
    if (read === null) return;
    if (!read.isRegular) {
      this.#warn("changed-type", entry.relative, "is no longer a regular file");
      return;
    }
    const metadata = this.#metadata(entry, read.parts);
    if (metadata === null) return;
    const size = entry.stat.size;
    // opened again only if the encoder reads it: an unchanged file in metadata mode is not
    const events = this.#readEvents(entry.relative);
    const content = fileContentAt(entry.absolute, size, this.#readSize, events);
    try {
      const target = await this.#out.add(entry.name, { kind: "file", metadata, size, content });
      this.#options.catalog?.addFile(entry.name, size, metadata.stat.mtime.secs);
      this.counters.files++;
      if (entry.stat.nlink > 1 && target !== null) this.#hardlinks.set(inode, target);
    } finally {
      // closes the file should the encoder have stopped reading it midway
      await content.return(undefined);
    }
  }

  async #addSymlink(directory: Directory, entry: Listed, ahead?: EntryRead | Promise<EntryRead>) {
    const read = await this.#read(directory, entry, ahead);
    if (read === null) return;
    const metadata = this.#metadata(entry, read.parts);
    if (metadata === null) return;
    await this.#out.add(entry.name, { kind: "symlink", metadata, target: read.target! });
    this.#options.catalog?.add(entry.name, "symlink");
    this.counters.symlinks++;
  }

  async #addDevice(
    directory: Directory,
    entry: Listed,
    block: boolean,
    ahead?: EntryRead | Promise<EntryRead>,
  ): Promise<void> {
    const read = await this.#read(directory, entry, ahead);
    if (read === null) return;
    const metadata = this.#metadata(entry, read.parts);
    if (metadata === null) return;
    const kind = block ? "block-device" : "char-device";
    await this.#out.add(entry.name, { kind, metadata, device: splitDevice(entry.stat.rdev) });
    this.#options.catalog?.add(entry.name, kind);
    this.counters.devices++;
  }

  async #addSpecial(
    directory: Directory,
    entry: Listed,
    fifo: boolean,
    ahead?: EntryRead | Promise<EntryRead>,
  ): Promise<void> {
    const read = await this.#read(directory, entry, ahead);
    if (read === null) return;
    const metadata = this.#metadata(entry, read.parts);
    if (metadata === null) return;
    const kind = fifo ? "fifo" : "socket";
    await this.#out.add(entry.name, { kind, metadata });
    this.#options.catalog?.add(entry.name, kind);
    if (fifo) this.counters.fifos++;
    else this.counters.sockets++;
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

  /**
   * The entry's metadata, after a warning for each part that could not be read; null when
   * those show the entry vanished meanwhile.
   */
  #metadata(entry: Listed, parts: EntryParts): Metadata | null {
    let vanished = false;
    const metadata = entryMetadata(entry.stat, parts, (part, error) => {
      if (errnoCode(error) === "ENOENT") vanished = true;
      else
        this.#warn("metadata", entry.relative, `cannot read ${part}: ${messageOf(error)}`, error);
    });
    if (!vanished) return metadata;
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
  readonly listing: ListingRead | null;
}

/** How an entry is read, by its lstat type; null for a type the walk does not archive. */
function kindOf(entry: Listed): EntryKind | null {
  switch (entry.stat.mode & MODE.typeMask) {
    case MODE.directory:
      return "directory";
    case MODE.regular:
      return "file";
    case MODE.symlink:
      return "symlink";
    case MODE.blockDevice:
    case MODE.charDevice:
    case MODE.fifo:
    case MODE.socket:
      return "other";
    default:
      return null;
  }
}

function childRelative(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, SLASH, name]);
}
