import { CairnError } from "../errors.js";

/** Why a protocol call was refused; each kind is its own `CAIRN_E_PROTOCOL_…` code. */
export type ProtocolErrorKind =
  /** A query or body parameter is missing, unknown or malformed. */
  | "bad-parameter"
  /** No call of that method and path in this protocol. */
  | "unknown-call"
  /** The request body is not what the call declared (length, JSON). */
  | "bad-body"
  /** The writer id names no open writer of that kind, or no more writers may be opened. */
  | "bad-writer"
  /** A digest to append was neither uploaded nor known from the previous snapshot. */
  | "unknown-chunk"
  /** A chunk does not fit where it is appended (offset, alignment, length). */
  | "bad-offset"
  /** A chunk does not fit its writer (longer than the fixed chunk size, a second short chunk). */
  | "bad-chunk"
  /** What the client says about a closing index does not match what was appended. */
  | "close-mismatch"
  /** `reuse-csum` does not name the previous snapshot's index. */
  | "reuse-mismatch"
  /** The archive name was already used in this backup. */
  | "duplicate-file"
  /** A call that needs a state the session is not in (finish too early, call after finish). */
  | "bad-state"
  /** The previous snapshot (or the file asked for) does not exist. */
  | "no-previous"
  /** The caller may read a snapshot only through owning its group, and does not. */
  | "not-owner"
  /** A reader asked for a chunk no index it downloaded refers to. */
  | "chunk-not-allowed"
  /** A file stored in the snapshot cannot be parsed: the server's data, not the client's. */
  | "damaged-file"
  /** Client side: the server refused the upgrade or a call; the status is the server's. */
  | "remote-error"
  /** Client side: the server's TLS certificate is not trusted. */
  | "untrusted-server"
  /** Client side: the connection failed or ended before an answer. */
  | "connection-failed";

const HTTP_STATUS: Record<ProtocolErrorKind, number> = {
  "bad-parameter": 400,
  "unknown-call": 404,
  "bad-body": 400,
  "bad-writer": 400,
  "unknown-chunk": 400,
  "bad-offset": 400,
  "bad-chunk": 400,
  "close-mismatch": 400,
  "reuse-mismatch": 400,
  "duplicate-file": 400,
  "bad-state": 400,
  "no-previous": 404,
  "not-owner": 403,
  "chunk-not-allowed": 403,
  "damaged-file": 500,
  "remote-error": 502,
  "untrusted-server": 502,
  "connection-failed": 502,
};

/**
 * A refused backup or reader protocol call. Server side, the status is what the client gets with
 * the message as body; client side, `remote-error` carries the server's status instead.
 */
export class ProtocolError extends CairnError {
  override name = "ProtocolError";

  constructor(
    readonly kind: ProtocolErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    httpStatus = HTTP_STATUS[kind],
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_PROTOCOL_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      httpStatus,
      context,
      options,
    );
  }
}

/** The status an error is answered with: a CairnError's own, else 500. */
export function statusOf(err: unknown): number {
  const status = (err as { httpStatus?: unknown } | undefined)?.httpStatus;
  return typeof status === "number" && status >= 400 && status <= 599 ? status : 500;
}
