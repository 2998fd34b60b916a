/**
 * Typed access to the directory listings of the `cairn_fsops` addon (listing.c): a directory's
 * names in bytewise order with their lstat, in one call run on libuv's thread pool, alone
 * (directory-listing.c) or with the directory's entry read (entry-reads.c). Failures come back
 * as the errors Node's readdir and lstat would have thrown.
 */
import { getSystemErrorName } from "node:util";
import { loadFsOpsAddon } from "./fsops.js";
import { type NodeFsError, nodeFsError } from "./node-fs-error.js";

/** What the walker uses of an lstat. */
export interface EntryStat {
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** As the kernel keeps it: whole seconds (negative before 1970) and 0..999,999,999 ns. */
  readonly mtime: { readonly secs: number; readonly nanos: number };
  readonly dev: bigint;
  readonly ino: bigint;
  readonly rdev: bigint;
}

/** A directory's names, without "." and "..", in bytewise order, each with its lstat. */
export interface Listing {
  readonly failed: null;
  readonly names: Buffer[];
  /** Per name, its lstat or the error Node's lstat would have thrown. */
  readonly stats: (EntryStat | NodeFsError)[];
  /** The errno name ("ENOENT", ...) of the probe name's lstat, null when it exists. */
  readonly probeCode: string | null;
}

export type DirectoryListing =
  /** The directory could not be read (Node's readdir error, syscall "scandir"). */
  { readonly failed: NodeFsError } | Listing;

/** A listing as the addon hands it over (listing.c's listing_result). */
export interface NativeListing {
  errno: number;
  /** The names one after the other, and where each ends. */
  names?: Buffer;
  ends?: Uint32Array;
  numbers?: Float64Array;
  ids?: BigUint64Array;
}

interface NativeDirectoryListing {
  listDirectory(path: Buffer, probe: string): Promise<NativeListing>;
}

// listing.c's numbers and ids per name
const STAT_FIELDS = 8;
const STAT_IDS = 3;
const SLASH = Buffer.from("/");

/** Lists `path` and lstat-s each entry (path + "/" + name), and the name `probe` too. */
export async function listDirectory(path: Buffer, probe: string): Promise<DirectoryListing> {
  const native = loadFsOpsAddon<NativeDirectoryListing>("listDirectory");
  return listingOf(await native.listDirectory(path, probe), path);
}

/** The listing of the directory at `path` from what the addon handed over. */
export function listingOf(native: NativeListing, path: Buffer): DirectoryListing {
  if (native.errno !== 0) return { failed: nodeFsError(native.errno, "scandir", path) };
  const ends = native.ends!;
  const names = Array.from(ends, (end, index) =>
    native.names!.subarray(index === 0 ? 0 : ends[index - 1], end),
  );
  const numbers = native.numbers!;
  const ids = native.ids!;
  const probeErrno = numbers[names.length * STAT_FIELDS]!;
  return {
    failed: null,
    names,
    stats: names.map((name, index) => statAt(numbers, ids, index, path, name)),
    probeCode: probeErrno === 0 ? null : getSystemErrorName(-probeErrno),
  };
}

function statAt(
  numbers: Float64Array,
  ids: BigUint64Array,
  index: number,
  directory: Buffer,
  name: Buffer,
): EntryStat | NodeFsError {
  const at = index * STAT_FIELDS;
  const errno = numbers[at]!;
  if (errno !== 0) return nodeFsError(errno, "lstat", Buffer.concat([directory, SLASH, name]));
  const id = index * STAT_IDS;
  return {
    mode: numbers[at + 1]!,
    nlink: numbers[at + 2]!,
    uid: numbers[at + 3]!,
    gid: numbers[at + 4]!,
    size: numbers[at + 5]!,
    mtime: { secs: numbers[at + 6]!, nanos: numbers[at + 7]! },
    dev: ids[id]!,
    ino: ids[id + 1]!,
    rdev: ids[id + 2]!,
  };
}
