/**
 * Typed access to the batched entry reads of the `cairn_fsops` addon (entry-reads.c): what the
 * archive walker stores about each entry beyond its lstat, and for directories their listing
 * and their children, each batch one call run on libuv's thread pool. Failures of open, fstat
 * and readlink come back as Node's own fs errors would; those of the ioctls and xattr calls as
 * the SyscallErrors fsops.ts throws.
 */
import { type Listing, listingOf, type NativeListing } from "./directory-listing.js";
import { asSyscallError, loadFsOpsAddon, type SyscallError } from "./fsops.js";
import { type NodeFsError, nodeFsError } from "./node-fs-error.js";

/** How an entry is read, by what its lstat said it is (entry-reads.c's entry_kind). */
export type EntryKind =
  /** The archive root: opened following symlinks; flags, xattrs, project id. */
  | "root"
  /** Opened without following symlinks; flags, xattrs, project id. */
  | "directory"
  /** Opened and fstat-ed; when still a regular file, flags, xattrs, project id. */
  | "file"
  /** readlink, xattrs. */
  | "symlink"
  /** Devices, FIFOs, sockets: xattrs. */
  | "other";

export interface EntryRequest {
  readonly path: Buffer;
  readonly kind: EntryKind;
  /** Also read the quota project id (directories and regular files). */
  readonly projectId: boolean;
  /**
   * A directory: also list it, unless it cannot be read or its names do not fit in what a batch
   * may list beyond its entries (512 names).
   */
  readonly list?: boolean;
  /**
   * A listed directory without the probe name: also read its children as the walker would
   * (with this request's `projectId`), listing and descending into those that are directories
   * on its device, as far as the batch's 512 names allow.
   */
  readonly readChildren?: boolean;
}

/** An extended attribute in listing order; only those pxar keeps are read (see entry-reads.c). */
export interface XattrRead {
  readonly name: Buffer;
  readonly value: Buffer | SyscallError;
}

/** The parts of an entry's metadata beyond its lstat: each a value, its error, or null if unread. */
export interface EntryParts {
  /** FS_IOC_GETFLAGS bits, read for open directories and regular files. */
  readonly flags: number | SyscallError | null;
  readonly projectId: number | SyscallError | null;
  readonly xattrs: readonly XattrRead[] | SyscallError | null;
}

/** A directory listed with its entry read, and the children read with it. */
export interface ListingRead extends Listing {
  /** Per name, what was read of it; undefined where nothing was (mount points among them). */
  readonly children: (EntryRead | undefined)[] | null;
}

export type EntryRead =
  /** The entry could not be opened, fstat-ed or its link read: nothing else was. */
  | { readonly failed: NodeFsError; readonly part: "open" | "fstat" | "readlink" }
  | {
      readonly failed: null;
      /** For "file" entries, whether the opened file still is a regular one (else no parts). */
      readonly isRegular: boolean;
      /** A symlink's target. */
      readonly target: Buffer | null;
      readonly parts: EntryParts;
      /** The listing, when asked for and made. */
      readonly listing: ListingRead | null;
    };

interface NativeEntries {
  numbers: Float64Array;
  details: (NativeDetails | undefined)[];
}

interface NativeDetails {
  target?: Buffer;
  /** name, value or Error, name, value or Error, ... */
  xattrs?: (Buffer | Error)[];
  listError?: Error;
  flagsError?: Error;
  projectIdError?: Error;
  listing?: NativeListing;
  /** `at` holds the index in the listing of each child read. */
  children?: NativeEntries & { at: number[] };
}

interface NativeEntryReads {
  readEntries(paths: readonly Buffer[], plans: Uint8Array, probe: string): Promise<NativeEntries>;
}

// entry-reads.c's numbers per entry and plan bits
const ENTRY_FIELDS = 8;
const KIND_CODES: Record<EntryKind, number> = {
  root: 0,
  directory: 1,
  file: 2,
  symlink: 3,
  other: 4,
};
const PLAN_PROJECT_ID = 0x8;
const PLAN_LIST = 0x10;
const PLAN_DESCEND = 0x20;
const FAILED_PARTS = [null, "open", "fstat", "readlink"] as const;
const READ = 1;
const FAILED = 2;
const SLASH = Buffer.from("/");

/**
 * Reads the entries, in one call on the thread pool; results in request order. `probe` is the
 * name whose presence in a directory keeps its children from being read with it.
 */
export async function readEntries(
  requests: readonly EntryRequest[],
  probe: string,
): Promise<EntryRead[]> {
  const paths = requests.map((request) => request.path);
  const plans = Uint8Array.from(requests, planOf);
  const addon = loadFsOpsAddon<NativeEntryReads>("readEntries");
  const native = await addon.readEntries(paths, plans, probe);
  return requests.map((request, index) =>
    entryReadOf(() => request.path, native.numbers, index * ENTRY_FIELDS, native.details[index]),
  );
}

function planOf(request: EntryRequest): number {
  return (
    KIND_CODES[request.kind] |
    (request.projectId ? PLAN_PROJECT_ID : 0) |
    (request.list ? PLAN_LIST : 0) |
    (request.readChildren ? PLAN_DESCEND : 0)
  );
}

/** The entry's read from its ENTRY_FIELDS numbers at `at` and its details. */
function entryReadOf(
  pathOf: () => Buffer,
  numbers: Float64Array,
  at: number,
  details: NativeDetails | undefined,
): EntryRead {
  const failedPart = numbers[at]!;
  const part = FAILED_PARTS[failedPart];
  if (part === undefined) throw new RangeError(`entry read failed in unknown part ${failedPart}`);
  if (part !== null) {
    // Node's FileHandle.stat names no path
    const path = part === "fstat" ? undefined : pathOf();
    return { failed: nodeFsError(numbers[at + 1]!, part, path), part };
  }
  return {
    failed: null,
    isRegular: numbers[at + 2] === 1,
    target: details?.target ?? null,
    parts: {
      flags: partOf(numbers[at + 3]!, numbers[at + 4]!, details?.flagsError),
      projectId: partOf(numbers[at + 5]!, numbers[at + 6]!, details?.projectIdError),
      xattrs: xattrsOf(numbers[at + 7]!, details),
    },
    listing: details?.listing === undefined ? null : listingReadOf(pathOf(), details),
  };
}

function partOf(state: number, value: number, error: Error | undefined) {
  if (state === READ) return value;
  if (state === FAILED) return asSyscallError(error) as SyscallError;
  return null;
}

function xattrsOf(state: number, details: NativeDetails | undefined) {
  if (state === FAILED) return asSyscallError(details?.listError) as SyscallError;
  if (state !== READ) return null;
  const flat = details?.xattrs ?? [];
  const xattrs: XattrRead[] = [];
  for (let at = 0; at < flat.length; at += 2) {
    const value = flat[at + 1]!;
    xattrs.push({
      name: flat[at] as Buffer,
      value: Buffer.isBuffer(value) ? value : (asSyscallError(value) as SyscallError),
    });
  }
  return xattrs;
}

function listingReadOf(path: Buffer, details: NativeDetails): ListingRead {
  const listing = listingOf(details.listing!, path);
  // the addon only hands over listings it could make
  if (listing.failed !== null) throw listing.failed;
  const native = details.children;
  if (native === undefined) return { ...listing, children: null };
  const children = new Array<EntryRead | undefined>(listing.names.length);
  for (const [child, index] of native.at.entries()) {
    const childPath = () => Buffer.concat([path, SLASH, listing.names[index]!]);
    const at = child * ENTRY_FIELDS;
    children[index] = entryReadOf(childPath, native.numbers, at, native.details[child]);
  }
  return { ...listing, children };
}
