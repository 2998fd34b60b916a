/**
 * What archiving or restoring a tree could not do for one entry while going on with the rest.
 * `path` is the entry's path in the archive, "/" being the root.
 */
export type ArchiveWarningKind =
  // archiving
  | "vanished"
  | "grew"
  | "shrank"
  | "unreadable"
  | "read-error"
  | "changed-type"
  | "unsupported-type"
  | "metadata"
  | "mount-point"
  | "virtual-filesystem"
  | "bad-pattern"
  // restoring
  | "owner"
  | "mode"
  | "xattrs"
  | "acl"
  | "fcaps"
  | "times"
  | "flags"
  | "project-id"
  | "device"
  | "hardlink";

export interface ArchiveWarning {
  readonly kind: ArchiveWarningKind;
  readonly path: string;
  readonly message: string;
  readonly cause?: unknown;
}

export type WarningHandler = (warning: ArchiveWarning) => void;

/**
 * Archiving warnings after which the archive lacks data the source still has. A file that
 * vanished, grew or shrank is archived as PBS does (left out, cut, padded); skipped mount points
 * and bad patterns are what the user asked for. Those do not make a backup incomplete.
 */
const LOSES_DATA: ReadonlySet<ArchiveWarningKind> = new Set<ArchiveWarningKind>([
  "unreadable",
  "read-error",
  "changed-type",
  "unsupported-type",
  "metadata",
]);

/** Whether the entry the warning names is missing from the archive, wholly or in part. */
export function losesData(warning: ArchiveWarning): boolean {
  return LOSES_DATA.has(warning.kind);
}

/** An archive path for messages: "/" + the path from the root, bytes decoded as UTF-8. */
export function displayPath(relative: Uint8Array): string {
  return `/${Buffer.from(relative.buffer, relative.byteOffset, relative.length).toString()}`;
}

/** The message of an error, whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
