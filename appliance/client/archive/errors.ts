import { CairnError } from "../../errors.js";

/** Why archiving or restoring a tree stopped. */
export type ArchiveErrorKind =
  /** A restore would write outside its target: a bad name, link target or a symlink in the way. */
  | "unsafe-path"
  /** The target file system is full (ENOSPC) or the quota is used up (EDQUOT). */
  | "no-space"
  /** A restore met an existing entry it must not replace. */
  | "exists"
  /** The root to archive, or the restore target, is not a directory. */
  | "not-a-directory"
  /** The root to archive lies on proc, sysfs or another virtual file system. */
  | "virtual-filesystem"
  /** A file's bytes live in a payload stream the decoder was not given. */
  | "missing-payload"
  /** An exclude or restore pattern given by the caller cannot be parsed. */
  | "bad-pattern";

const STATUS: Record<ArchiveErrorKind, number> = {
  "unsafe-path": 400,
  "no-space": 507,
  exists: 409,
  "not-a-directory": 400,
  "virtual-filesystem": 400,
  "missing-payload": 400,
  "bad-pattern": 400,
};

export class ArchiveError extends CairnError {
  override name = "ArchiveError";

  constructor(
    readonly kind: ArchiveErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_ARCHIVE_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      STATUS[kind],
      context,
      options,
    );
  }
}

/** The errno name of a Node fs error or a SyscallError, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Errors meaning the file system or the file does not support the operation. */
export function isUnsupported(error: unknown): boolean {
  const code = errnoCode(error);
  return (
    code === "ENOTSUP" ||
    code === "EOPNOTSUPP" ||
    code === "ENOTTY" ||
    code === "ENOSYS" ||
    code === "EINVAL" ||
    code === "EBADF"
  );
}

export function isNoSpace(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOSPC" || code === "EDQUOT";
}
