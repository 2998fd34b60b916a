import { CairnError } from "../errors.js";

/** Why bytes were rejected by a decoder; each kind is its own code so callers can tell them apart. */
export type FormatErrorKind =
  | "bad-magic"
  | "crc-mismatch"
  | "auth-failed"
  | "oversize"
  | "truncated"
  | "digest-mismatch"
  | "checksum-mismatch"
  | "bad-layout"
  | "bad-key"
  | "bad-signature"
  | "bad-manifest"
  | "invalid-argument";

/** Bytes that are not what a format says they must be. Never carries the unchecked data itself. */
export class FormatError extends CairnError {
  override name = "FormatError";

  constructor(
    readonly kind: FormatErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_FORMAT_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      400,
      context,
      options,
    );
  }
}
