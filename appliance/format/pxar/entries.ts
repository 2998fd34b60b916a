/** What the decoder and the accessor hand back for each entry of an archive. */
import type { DeviceNumber, Metadata, PayloadRef } from "./types.js";

interface Located {
  /** Absolute path in the archive ("/" for the root, "/dir/name" below it), decoded as UTF-8. */
  readonly path: string;
  /** The same path as the raw bytes stored. */
  readonly pathBytes: Buffer;
  /** The entry's own name (empty for the root). */
  readonly name: Buffer;
  /** Offset of its FILENAME header in the archive; null for the root. */
  readonly fileOffset: number | null;
}

interface WithMetadata extends Located {
  readonly metadata: Metadata;
}

export interface DirectoryEntry extends WithMetadata {
  readonly kind: "directory";
}

export interface FileEntry extends WithMetadata {
  readonly kind: "file";
  readonly size: number;
  /** Split archives: where the bytes are in the `.ppxar`; null when they follow in the archive. */
  readonly payloadRef: PayloadRef | null;
  /**
   * The file's bytes, readable until the decoder is asked for the next entry (unread bytes are
   * skipped then). Null when they live in a payload stream the decoder was not given.
   */
  readonly content: AsyncIterable<Buffer> | null;
}

export interface SymlinkEntry extends WithMetadata {
  readonly kind: "symlink";
  readonly target: Buffer;
}

export interface DeviceEntry extends WithMetadata {
  readonly kind: "block-device" | "char-device";
  readonly device: DeviceNumber;
}

export interface SpecialEntry extends WithMetadata {
  readonly kind: "fifo" | "socket";
}

/** A later name of an earlier regular file; it carries no metadata of its own. */
export interface HardlinkEntry extends Located {
  readonly kind: "hardlink";
  /** The target's path from the archive root, without a leading '/'. */
  readonly target: Buffer;
  /** Offset of the target's FILENAME header. */
  readonly targetOffset: number;
}

export type PxarEntry =
  | DirectoryEntry
  | FileEntry
  | SymlinkEntry
  | DeviceEntry
  | SpecialEntry
  | HardlinkEntry;

/** The decoder's notice that a directory's children are complete (restore sets its times now). */
export interface DirectoryEnd {
  readonly kind: "directory-end";
  readonly path: string;
  readonly pathBytes: Buffer;
}

export type DecodedItem = PxarEntry | DirectoryEnd;

/** `parent` + '/' + `name`, the root being "/". */
export function childPath(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 1 ? Buffer.concat([parent, name]) : Buffer.concat([parent, SLASH, name]);
}

const SLASH = Buffer.from("/");
export const ROOT_PATH = Buffer.from("/");
