/**
 * Typed access to the `cairn_fsops` addon (appliance/native/fsops.c): the file-system calls Node
 * lacks. Paths and xattr names are strings or raw bytes; failures are `SyscallError`s whose `code`
 * is the errno name, as with Node's own fs errors.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CairnError } from "../errors.js";

export type FsPath = string | Uint8Array;

/** A seconds + nanoseconds time as utimensat takes it. */
export interface FileTime {
  readonly secs: number;
  readonly nanos: number;
}

interface NativeFsOps {
  llistxattr(path: FsPath): Buffer[];
  lgetxattr(path: FsPath, name: FsPath): Buffer;
  lsetxattr(path: FsPath, name: FsPath, value: Uint8Array, flags: number): void;
  lremovexattr(path: FsPath, name: FsPath): void;
  utimensat(
    path: FsPath,
    atimeSecs: number,
    atimeNanos: number,
    mtimeSecs: number,
    mtimeNanos: number,
    noFollow: boolean,
  ): void;
  mknod(path: FsPath, mode: number, major: number, minor: number): void;
  getFlags(fd: number): number;
  setFlags(fd: number, flags: number): void;
  getProjectId(fd: number): number;
  setProjectId(fd: number, projectId: number): void;
  constants: { UTIME_NOW: number; UTIME_OMIT: number; XATTR_CREATE: number; XATTR_REPLACE: number };
}

/** A system call that failed; `code` is the errno name ("ENODATA", "EPERM", …). */
export class SyscallError extends Error {
  override name = "SyscallError";

  constructor(
    readonly code: string,
    readonly errno: number,
    readonly syscall: string,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The addon was not built (`npm ci` runs node-gyp); nothing here works without it. */
export class FsOpsUnavailable extends CairnError {
  override name = "FsOpsUnavailable";

  constructor(addon: string) {
    super(
      "CAIRN_E_FSOPS_UNAVAILABLE",
      `native file-system addon not found at ${addon}; build it with 'npm ci' or 'npx node-gyp rebuild'`,
      500,
      { addon },
    );
  }
}

/** The addon was built from older sources: it lacks a function this code calls. */
export class FsOpsOutdated extends CairnError {
  override name = "FsOpsOutdated";

  constructor(addon: string, missing: string) {
    super(
      "CAIRN_E_FSOPS_OUTDATED",
      `native file-system addon at ${addon} has no ${missing}; rebuild it with 'npm ci' or 'npx node-gyp rebuild'`,
      500,
      { addon, missing },
    );
  }
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value, name]),
);

function addonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, "build", "Release", "cairn_fsops.node");
}

let native: unknown;

/**
 * The addon, typed as the part of it a caller uses (entry-reads.ts types its own); loads once.
 * Throws unless it is built and has each function in `needs`.
 */
export function loadFsOpsAddon<T = NativeFsOps>(...needs: readonly (keyof T & string)[]): T {
  if (native === undefined) {
    const addon = addonPath();
    if (!existsSync(addon)) throw new FsOpsUnavailable(addon);
    native = createRequire(import.meta.url)(addon);
  }
  for (const name of needs) {
    if (typeof (native as Record<string, unknown>)[name] !== "function") {
      throw new FsOpsOutdated(addonPath(), name);
    }
  }
  return native as T;
}

const load = (): NativeFsOps => loadFsOpsAddon<NativeFsOps>();

/** Whether the addon is built; callers that can do without it check this first. */
export function fsOpsAvailable(): boolean {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

/** The SyscallError for an errno-carrying Error made by the addon; anything else as it is. */
export function asSyscallError(error: unknown): unknown {
  const { errno, syscall, path, message } = error as {
    errno?: unknown;
    syscall?: string;
    path?: string;
    message: string;
  };
  if (typeof errno !== "number") return error;
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  return new SyscallError(code, errno, syscall ?? "?", path ?? "", `${code}: ${message}`);
}

/** Runs a native call, turning its errno-carrying Error into a SyscallError. */
function call<T>(run: (ops: NativeFsOps) => T): T {
  const ops = load();
  try {
    return run(ops);
  } catch (error) {
    throw asSyscallError(error);
  }
}

/** Names of the extended attributes of `path` itself (a symlink is not followed), listed order. */
export function llistxattr(path: FsPath): Buffer[] {
  return call((ops) => ops.llistxattr(path));
}

/** One attribute's value; throws ENODATA when the attribute is not set. */
export function lgetxattr(path: FsPath, name: FsPath): Buffer {
  return call((ops) => ops.lgetxattr(path, name));
}

export type XattrMode = "create-or-replace" | "create" | "replace";

export function lsetxattr(
  path: FsPath,
  name: FsPath,
  value: Uint8Array,
  mode: XattrMode = "create-or-replace",
): void {
  call((ops) => {
    const flags =
      mode === "create"
        ? ops.constants.XATTR_CREATE
        : mode === "replace"
          ? ops.constants.XATTR_REPLACE
          : 0;
    ops.lsetxattr(path, name, value, flags);
  });
}

export function lremovexattr(path: FsPath, name: FsPath): void {
  call((ops) => ops.lremovexattr(path, name));
}

/**
 * Sets times with nanoseconds; `null` leaves that time as it is (UTIME_OMIT). With `noFollow` a
 * symlink's own times are set.
 */
export function utimensat(
  path: FsPath,
  atime: FileTime | null,
  mtime: FileTime | null,
  options: { noFollow: boolean },
): void {
  call((ops) => {
    const omit = ops.constants.UTIME_OMIT;
    ops.utimensat(
      path,
      atime?.secs ?? 0,
      atime?.nanos ?? omit,
      mtime?.secs ?? 0,
      mtime?.nanos ?? omit,
      options.noFollow,
    );
  });
}

/** Creates a device node, FIFO or socket inode; `mode` includes the type bits. */
export function mknod(path: FsPath, mode: number, device = { major: 0, minor: 0 }): void {
  call((ops) => ops.mknod(path, mode, device.major, device.minor));
}

/** The inode flags (`chattr`, FS_IOC_GETFLAGS) of an open regular file or directory. */
export function getInodeFlags(fd: number): number {
  return call((ops) => ops.getFlags(fd));
}

export function setInodeFlags(fd: number, flags: number): void {
  call((ops) => ops.setFlags(fd, flags));
}

/** The quota project id (FS_IOC_FSGETXATTR) of an open regular file or directory. */
export function getProjectId(fd: number): number {
  return call((ops) => ops.getProjectId(fd));
}

export function setProjectId(fd: number, projectId: number): void {
  call((ops) => ops.setProjectId(fd, projectId));
}
