import { CairnError } from "../../errors.js";

/** What went wrong; each kind is its own `CAIRN_E_NOTIFY_…` code. */
export type NotificationErrorKind = "not-found" | "exists" | "in-use" | "delivery-failed";

const HTTP_STATUS: Record<NotificationErrorKind, number> = {
  "not-found": 404,
  exists: 409,
  "in-use": 409,
  // the target refused or could not be reached: a gateway problem, not a bad request
  "delivery-failed": 502,
};

/** An unknown or duplicate target or matcher, or a notification a target did not take. */
export class NotificationError extends CairnError {
  override name = "NotificationError";

  constructor(
    readonly kind: NotificationErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_NOTIFY_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}
