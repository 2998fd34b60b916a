import { CairnError } from "../errors.js";

/** What was wrong; each kind is its own `CAIRN_E_DATASTORE_…` code so callers can tell them apart. */
export type DatastoreErrorKind =
  | "bad-name"
  | "bad-time"
  | "bad-digest"
  | "bad-prune-options"
  | "bad-prune-input"
  | "bad-gc-options"
  | "not-a-datastore"
  | "chunk-missing"
  | "chunk-conflict"
  | "lock-busy"
  | "aborted"
  | "atime-unsupported"
  | "gc-unsafe"
  | "not-found"
  | "exists"
  | "owner-mismatch"
  | "protected"
  | "not-empty"
  | "not-newer"
  | "bad-state"
  | "manifest-mismatch"
  | "sync-failed";

const HTTP_STATUS: Record<DatastoreErrorKind, number> = {
  "bad-name": 400,
  "bad-time": 400,
  "bad-digest": 400,
  "bad-prune-options": 400,
  "bad-prune-input": 400,
  "bad-gc-options": 400,
  "not-a-datastore": 404,
  "chunk-missing": 404,
  "chunk-conflict": 409,
  "lock-busy": 409,
  aborted: 409,
  "atime-unsupported": 409,
  "gc-unsafe": 409,
  "not-found": 404,
  exists: 409,
  "owner-mismatch": 403,
  protected: 409,
  "not-empty": 409,
  "not-newer": 409,
  "bad-state": 409,
  "manifest-mismatch": 400,
  "sync-failed": 500,
};

/**
 * A datastore operation refused. For bad input, `context.field` and `context.value` say which input
 * and what it was; the HTTP status follows from the kind unless the caller knows better.
 */
export class DatastoreError extends CairnError {
  override name = "DatastoreError";

  constructor(
    readonly kind: DatastoreErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    httpStatus = HTTP_STATUS[kind],
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_DATASTORE_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      httpStatus,
      context,
      options,
    );
  }
}

const MAX_SHOWN_LENGTH = 80;

/**
 * A rejected value made safe to print: quoted, non-printable and non-ASCII characters escaped (so
 * NUL, control and bidi characters can't hide in a log line), long values cut short.
 */
export function showValue(value: unknown): string {
  if (typeof value !== "string") {
    if (value === null || ["undefined", "number", "boolean"].includes(typeof value)) {
      return String(value);
    }
    return Array.isArray(value) ? "<array>" : `<${typeof value}>`;
  }
  const cut = value.length > MAX_SHOWN_LENGTH;
  const escaped = Array.from(cut ? value.slice(0, MAX_SHOWN_LENGTH) : value, escapeChar).join("");
  return `"${escaped}"${cut ? `… (${value.length} chars)` : ""}`;
}

function escapeChar(char: string): string {
  const code = char.codePointAt(0)!;
  if (char === '"' || char === "\\") return `\\${char}`;
  if (code >= 0x20 && code < 0x7f) return char;
  return `\\u{${code.toString(16)}}`;
}

/** The error for an input that is not a valid name of its kind. */
export function badName(field: string, value: unknown, rule: string): DatastoreError {
  return new DatastoreError("bad-name", `invalid ${field} ${showValue(value)}: ${rule}`, {
    field,
    value: showValue(value),
  });
}

/** Whether `err` is a DatastoreError of this kind. */
export function isDatastoreError(err: unknown, kind: DatastoreErrorKind): err is DatastoreError {
  return err instanceof DatastoreError && err.kind === kind;
}

/** Node's "no such file" codes: the path or one of its parents is absent. */
export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
