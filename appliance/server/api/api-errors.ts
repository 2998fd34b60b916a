import { CairnError } from "../../errors.js";

/** Why the API refused a request before (or instead of) running its handler. */
export type ApiErrorKind =
  | "not-found"
  | "method-not-allowed"
  | "bad-request"
  | "bad-parameter"
  | "body-too-large"
  | "unsupported-media-type"
  | "unauthenticated"
  | "forbidden"
  | "conflict"
  | "not-implemented";

const HTTP_STATUS: Record<ApiErrorKind, number> = {
  "not-found": 404,
  "method-not-allowed": 405,
  "bad-request": 400,
  "bad-parameter": 400,
  "body-too-large": 413,
  "unsupported-media-type": 415,
  unauthenticated: 401,
  forbidden: 403,
  conflict: 409,
  "not-implemented": 501,
};

/** An API-level refusal (`CAIRN_E_API_…`); `context.errors` maps parameter names to problems. */
export class ApiError extends CairnError {
  override name = "ApiError";

  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_API_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}

/** The 400 for parameters that failed validation; the message names every one and its problem. */
export function badParameters(errors: Record<string, string>): ApiError {
  const list = Object.entries(errors)
    .map(([name, problem]) => `${name}: ${problem}`)
    .join("; ");
  return new ApiError("bad-parameter", `parameter verification failed - ${list}`, { errors });
}

export function forbidden(message = "permission check failed"): ApiError {
  return new ApiError("forbidden", message);
}
