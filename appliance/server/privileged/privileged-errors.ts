import { CairnError } from "../../errors.js";

export type PrivilegedErrorKind = "unavailable" | "bad-answer" | "not-forwardable";

const HTTP_STATUS: Record<PrivilegedErrorKind, number> = {
  unavailable: 503,
  "bad-answer": 502,
  "not-forwardable": 500,
};

/** The public daemon cannot get an answer from the privileged service (`CAIRN_E_PRIVILEGED_…`). */
export class PrivilegedServiceError extends CairnError {
  override name = "PrivilegedServiceError";

  constructor(
    readonly kind: PrivilegedErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_PRIVILEGED_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}

/**
 * A refusal the privileged service answered, passed on to the caller unchanged: its status,
 * message, code and per-parameter errors.
 */
export class RelayedError extends CairnError {
  override name = "RelayedError";
}
