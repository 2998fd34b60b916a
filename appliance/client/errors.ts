import { CairnError } from "../errors.js";

/** Why a client command stopped; the code is `CAIRN_E_CLIENT_<KIND>`. */
export type ClientErrorKind =
  | "bad-repository"
  | "bad-argument"
  | "untrusted-server"
  | "login-failed"
  | "api-failed"
  | "no-key"
  | "bad-key"
  | "tampered"
  | "not-found"
  | "unsupported"
  | "io";

/** A client failure with a message that names what went wrong and what to do about it. */
export class ClientError extends CairnError {
  override name = "ClientError";

  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_CLIENT_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      400,
      context,
      options,
    );
  }
}
