/**
 * Restores a pxar archive's entries into a directory: every entry kind, owners, modes, ns mtimes
 * (directories' after their children), xattrs, ACLs, file capabilities, chattr flags, hard links;
 * files sparse. Nothing is ever written outside the target: names are checked, entries are made
 * with calls that fail on an existing name rather than follow it, and a symlink standing where a
 * directory or hard-link target must be stops the restore. What cannot be restored (owners and
 * devices as a normal user, say) is one warning each. Out of space stops with a clear error.
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, link, lstat, mkdir, open, realpath, symlink } from "node:fs/promises";
import { resolve } from "node:path";
import { MODE } from "../../format/pxar/constants.js";
import type { DecodedItem, FileEntry, PxarEntry } from "../../format/pxar/entries.js";
import { filenameProblem } from "../../format/pxar/items.js";
import type { Metadata } from "../../format/pxar/types.js";
import { mknod, setInodeFlags } from "../../native/fsops.js";
import { applyMetadata } from "./apply-metadata.js";
import { ArchiveError, errnoCode, isNoSpace } from "./errors.js";
import { matchPath, type PathPattern, parsePattern } from "./exclude.js";
import { chattrFromEntryFlags, INITIAL_CHATTR } from "./inode-flags.js";
import { writeSparse } from "./sparse-file.js";
import { displayPath, messageOf, type WarningHandler } from "./warnings.js";

export interface ExtractOptions {
  /**
   * Restore only what these match (exclude.ts syntax; a match includes, `!` excludes, the last
   * match wins, an entry no pattern matches follows its directory). Default: everything.
   */
  readonly patterns?: readonly string[];
  readonly onWarning?: WarningHandler;
}

export interface ExtractCounters {
  directories: number;
  files: number;
  symlinks: number;
  hardlinks: number;
  devices: number;
  fifos: number;
  sockets: number;
  /** File bytes written; zero blocks left as holes are not counted. */
  bytesWritten: number;
  /** Entries not restored: left out by the patterns or not restorable (see the warnings). */
  skipped: number;
  warnings: number;
}

interface Frame {
  readonly absolute: Buffer;
  /** From the archive root, no leading '/'; empty for the root. */
  readonly relative: Buffer;
  readonly metadata: Metadata;
  readonly extract: boolean;
  /** Made (or found as a real directory) on disk; directories are made when first needed. */
  created: boolean;
}

const SLASH = Buffer.from("/");

/** Restores the decoded `items` (a PxarDecoder) into `target`, created if missing. */
export async function extractArchive(
  items: AsyncIterable<DecodedItem>,
  target: string,
  options: ExtractOptions = {},
): Promise<ExtractCounters> {
  const patterns = (options.patterns ?? []).map((text) => {
    try {
      return parsePattern(text, "include");
    } catch (error) {
      const message = `bad restore pattern ${JSON.stringify(text)}`;
      throw new ArchiveError("bad-pattern", message, { pattern: text }, { cause: error });
    }
  });
  const root = await prepareTarget(target);
  const extractor = new Extractor(root, patterns, options.onWarning);
  for await (const item of items) await extractor.take(item);
  extractor.finish();
  return extractor.counters;
}

async function prepareTarget(target: string): Promise<Buffer> {
  await mkdir(target, { recursive: true, mode: 0o700 });
  const real = await realpath(resolve(target));
  if (!(await lstat(real)).isDirectory()) {
    throw new ArchiveError("not-a-directory", `restore target ${target} is not a directory`, {
      target,
    });
  }
  return Buffer.from(real);
}

/** The restore's state: the open directories, the counters. */
class Extractor {
  readonly counters: ExtractCounters = {
    directories: 0,
    files: 0,
    symlinks: 0,
    hardlinks: 0,
    devices: 0,
    fifos: 0,
    sockets: 0,
    bytesWritten: 0,
    skipped: 0,
    warnings: 0,
  };
  readonly #root: Buffer;
  readonly #patterns: readonly PathPattern[];
  readonly #onWarning: WarningHandler | undefined;
  readonly #stack: Frame[] = [];
  #started = false;

  constructor(root: Buffer, patterns: readonly PathPattern[], onWarning?: WarningHandler) {
    this.#root = root;
    this.#patterns = patterns;
    this.#onWarning = onWarning;
  }

  async take(item: DecodedItem): Promise<void> {
    if (item.kind === "directory-end") return this.#endDirectory();
    if (!this.#started) return this.#startRoot(item);
    const parent = this.#stack.at(-1);
    if (parent === undefined) throw unsafe("an entry follows the end of the root directory", item);
    const problem = filenameProblem(item.name);
    if (problem !== undefined) throw unsafe(`entry name ${problem}`, item);
    const relative = childOf(parent.relative, item.name);
    const absolute = Buffer.concat([parent.absolute, SLASH, item.name]);
    const mode = item.kind === "hardlink" ? MODE.regular : item.metadata.stat.mode;
    const matched = matchPath(this.#patterns, Buffer.concat([SLASH, relative]), mode);
    const extract = matched === undefined ? parent.extract : matched === "include";
    if (item.kind === "directory") {
      this.#stack.push({ absolute, relative, metadata: item.metadata, extract, created: false });
      if (extract) await this.#createDirectories();
      return;
    }
    if (!extract) {
      this.counters.skipped++;
      return;
    }
    await this.#createDirectories();
    await this.#restore(item, absolute, relative);
  }

  finish(): void {
    if (!this.#started || this.#stack.length > 0) {
      throw new ArchiveError("unsafe-path", "the archive ended before its root directory did");
    }
  }

  #startRoot(item: PxarEntry): void {
    if (item.kind !== "directory") throw unsafe(`the archive's root is a ${item.kind}`, item);
    this.#started = true;
    this.#stack.push({
      absolute: this.#root,
      relative: Buffer.alloc(0),
      metadata: item.metadata,
      extract: this.#patterns.length === 0,
      created: true,
    });
  }

  async #endDirectory(): Promise<void> {
    const frame = this.#stack.pop();
    if (frame === undefined) throw new ArchiveError("unsafe-path", "a directory ends twice");
    if (!frame.created) return;
    if (frame.relative.length > 0) this.counters.directories++;
    await this.#applyMetadata(frame.absolute, frame.relative, frame.metadata);
  }

  /** Makes the open directories that are not on disk yet, outermost first. */
  async #createDirectories(): Promise<void> {
    for (const frame of this.#stack) {
      if (frame.created) continue;
      try {
        await mkdir(frame.absolute, 0o700);
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") throw this.#fatal(error, frame.relative);
        const existing = await lstat(frame.absolute);
        if (!existing.isDirectory()) throw conflict(existing, frame.relative);
      }
      frame.created = true;
    }
  }

  async #restore(
    item: Exclude<PxarEntry, { kind: "directory" }>,
    absolute: Buffer,
    relative: Buffer,
  ) {
    switch (item.kind) {
      case "file":
        await this.#restoreFile(item, absolute, relative);
        this.counters.files++;
        break;
      case "symlink":
        await this.#create(relative, () => symlink(item.target, absolute));
        this.counters.symlinks++;
        break;
      case "hardlink":
        await this.#restoreHardlink(item.target, absolute, relative);
        return;
      case "block-device":
      case "char-device":
        if (!(await this.#restoreDevice(item.metadata, item.device, absolute, relative))) return;
        this.counters.devices++;
        break;
      case "fifo":
      case "socket":
        await this.#create(relative, () =>
          mknod(absolute, (item.metadata.stat.mode & MODE.typeMask) | 0o600),
        );
        if (item.kind === "fifo") this.counters.fifos++;
        else this.counters.sockets++;
        break;
    }
    await this.#applyMetadata(absolute, relative, item.metadata);
  }

  async #restoreFile(item: FileEntry, absolute: Buffer, relative: Buffer): Promise<void> {
    if (item.content === null) {
      throw new ArchiveError(
        "missing-payload",
        `${item.path}: its bytes are in a payload stream (.ppxar) that was not given`,
        { path: item.path },
      );
    }
    const flags =
      constants.O_WRONLY |
      constants.O_CREAT |
      constants.O_EXCL |
      constants.O_NOFOLLOW |
      constants.O_NOCTTY;
    const handle = await this.#create(relative, () => open(absolute, flags, 0o600));
    try {
      this.#setInitialFlags(handle, item.metadata, relative);
      const { written } = await writeSparse(handle, item.content);
      await handle.truncate(item.size);
      this.counters.bytesWritten += written;
    } catch (error) {
      throw this.#fatal(error, relative);
    } finally {
      await handle.close();
    }
  }

  /** Flags such as no-copy-on-write only take on an empty file. */
  #setInitialFlags(handle: FileHandle, metadata: Metadata, relative: Buffer): void {
    const initial = chattrFromEntryFlags(metadata.stat.flags) & INITIAL_CHATTR;
    if (initial === 0) return;
    try {
      setInodeFlags(handle.fd, initial);
    } catch (error) {
      this.#warn("flags", relative, `cannot set inode flags 0x${initial.toString(16)}`, error);
    }
  }

  async #restoreHardlink(target: Buffer, absolute: Buffer, relative: Buffer): Promise<void> {
    const existing = await this.#linkTarget(target, relative);
    if (existing === null) {
      this.counters.skipped++;
      return;
    }
    await this.#create(relative, () => link(existing, absolute));
    this.counters.hardlinks++;
  }

  /**
   * The on-disk path of a hard link's target after checking it lies inside the target through
   * real directories and is a regular file; null (warned) when it was not restored.
   */
  async #linkTarget(target: Buffer, relative: Buffer): Promise<Buffer | null> {
    const parts = splitPath(target);
    if (parts === null) {
      throw new ArchiveError(
        "unsafe-path",
        `${displayPath(relative)}: hard link target ${JSON.stringify(target.toString())} leaves the archive`,
        { path: displayPath(relative) },
      );
    }
    let at = this.#root;
    for (const [index, part] of parts.entries()) {
      at = Buffer.concat([at, SLASH, part]);
      let found: Stats;
      try {
        found = await lstat(at);
      } catch (error) {
        if (errnoCode(error) !== "ENOENT") throw error;
        this.#warn(
          "hardlink",
          relative,
          `hard link target /${target.toString()} was not restored`,
          error,
        );
        return null;
      }
      const last = index === parts.length - 1;
      if (last ? !found.isFile() : !found.isDirectory()) {
        throw new ArchiveError(
          "unsafe-path",
          `${displayPath(relative)}: hard link target /${target.toString()} passes through or is a ${describe(found)}`,
          { path: displayPath(relative) },
        );
      }
    }
    return at;
  }

  async #restoreDevice(
    metadata: Metadata,
    device: { major: number; minor: number },
    absolute: Buffer,
    relative: Buffer,
  ): Promise<boolean> {
    try {
      await this.#create(relative, () =>
        mknod(absolute, (metadata.stat.mode & MODE.typeMask) | 0o600, device),
      );
      return true;
    } catch (error) {
      if (errnoCode(error) !== "EPERM") throw error;
      this.counters.skipped++;
      this.#warn("device", relative, `cannot create device ${device.major}:${device.minor}`, error);
      return false;
    }
  }

  /** Runs a call that creates `relative`, turning "exists" and "no space" into ArchiveErrors. */
  async #create<T>(relative: Buffer, make: () => T | Promise<T>): Promise<T> {
    try {
      return await make();
    } catch (error) {
      if (errnoCode(error) === "EEXIST") {
        throw conflict(await lstat(Buffer.concat([this.#root, SLASH, relative])), relative);
      }
      throw this.#fatal(error, relative);
    }
  }

  async #applyMetadata(absolute: Buffer, relative: Buffer, metadata: Metadata): Promise<void> {
    await applyMetadata(absolute, metadata, (kind, what, error) =>
      this.#warn(kind, relative, `cannot restore ${what}`, error),
    );
  }

  #fatal(error: unknown, relative: Buffer): unknown {
    if (!isNoSpace(error)) return error;
    const path = displayPath(relative);
    return new ArchiveError(
      "no-space",
      `no space left on the restore target while writing ${path} (${errnoCode(error)})`,
      { path },
      { cause: error },
    );
  }

  #warn(
    kind: Parameters<WarningHandler>[0]["kind"],
    relative: Buffer,
    message: string,
    cause: unknown,
  ): void {
    this.counters.warnings++;
    const path = displayPath(relative);
    this.#onWarning?.({ kind, path, message: `${path}: ${message}: ${messageOf(cause)}`, cause });
  }
}

function childOf(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? Buffer.from(name) : Buffer.concat([parent, SLASH, name]);
}

/** A hard link target's components, or null when one is empty, '.', '..' (or it is absolute). */
function splitPath(path: Buffer): Buffer[] | null {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = 0; at <= path.length; at++) {
    if (at < path.length && path[at] !== 0x2f) continue;
    const part = path.subarray(start, at);
    if (filenameProblem(part) !== undefined) return null;
    parts.push(part);
    start = at + 1;
  }
  return parts;
}

function describe(stats: Stats): string {
  if (stats.isSymbolicLink()) return "symlink";
  if (stats.isDirectory()) return "directory";
  if (stats.isFile()) return "regular file";
  return "special file";
}

/** An existing entry in the way: a symlink there could lead outside, anything else is a clash. */
function conflict(existing: Stats, relative: Buffer): ArchiveError {
  const path = displayPath(relative);
  if (existing.isSymbolicLink()) {
    return new ArchiveError("unsafe-path", `${path}: a symlink is in the way; not following it`, {
      path,
    });
  }
  return new ArchiveError("exists", `${path}: a ${describe(existing)} already exists there`, {
    path,
  });
}

function unsafe(message: string, item: PxarEntry): ArchiveError {
  return new ArchiveError("unsafe-path", `${item.path}: ${message}`, { path: item.path });
}
