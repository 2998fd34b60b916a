/**
 * The base of every error Cairn raises on purpose: a stable code (`CAIRN_E_…`), a message that names
 * what was wrong, the HTTP status the API answers with, and the context needed to act on it.
 */
export class CairnError extends Error {
  override name = "CairnError";

  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
