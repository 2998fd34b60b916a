import { CairnError } from "../errors.js";

/** What was wrong; each kind is its own `CAIRN_E_JOB_…` code. */
export type JobErrorKind =
  | "bad-calendar-event"
  | "bad-time-zone"
  | "not-found"
  | "exists"
  | "busy"
  | "bad-config"
  | "bad-source"
  | "remote-failed"
  | "failed";

const HTTP_STATUS: Record<JobErrorKind, number> = {
  "bad-calendar-event": 400,
  "bad-time-zone": 400,
  "not-found": 404,
  exists: 409,
  busy: 409,
  "bad-config": 400,
  /** A sync source served data that does not match its own manifest. */
  "bad-source": 502,
  /** A remote could not be reached, refused the login or a call. */
  "remote-failed": 502,
  /** A job ran and some of its work failed (the task log lists what). */
  failed: 500,
};

/** A refused schedule, an unknown or busy job (`CAIRN_E_JOB_…`). */
export class JobError extends CairnError {
  override name = "JobError";

  constructor(
    readonly kind: JobErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_JOB_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}
