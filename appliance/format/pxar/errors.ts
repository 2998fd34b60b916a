import { FormatError, type FormatErrorKind } from "../errors.js";

/** A malformed archive: the message and the context both name the byte offset where it went wrong. */
export function malformed(
  kind: FormatErrorKind,
  message: string,
  offset: number,
  context: Record<string, unknown> = {},
): FormatError {
  return new FormatError(kind, `pxar: ${message} at offset ${offset}`, { offset, ...context });
}

/** A call that cannot be honoured: wrong kind for a mode, bad name, out-of-order call… */
export function misuse(
  message: string,
  context: Record<string, unknown> = {},
  options?: { cause?: unknown },
): FormatError {
  return new FormatError("invalid-argument", `pxar: ${message}`, context, options);
}

/**
 * A file's content stream yielded more or fewer bytes than declared: the file changed while it
 * was read. The archive written so far is unusable; the caller decides whether to retry the
 * archive or to feed the file again through a stream of exactly the declared size.
 */
export class ContentSizeMismatch extends FormatError {
  override name = "ContentSizeMismatch";

  constructor(
    readonly path: string,
    readonly declared: number,
    readonly received: number,
  ) {
    super(
      received > declared ? "oversize" : "truncated",
      `pxar encoder: content of ${path} is ${received > declared ? "longer" : "shorter"} than the declared ${declared} bytes (got ${received}${received > declared ? " or more" : ""})`,
      { path, declared, received },
    );
  }
}
