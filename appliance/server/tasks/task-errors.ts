import { CairnError } from "../../errors.js";

export type TaskErrorKind = "bad-upid" | "not-found" | "not-stoppable" | "aborted";

const HTTP_STATUS: Record<TaskErrorKind, number> = {
  "bad-upid": 400,
  "not-found": 404,
  "not-stoppable": 409,
  aborted: 409,
};

/** A refused task operation (`CAIRN_E_TASK_…`). */
export class TaskError extends CairnError {
  override name = "TaskError";

  constructor(
    readonly kind: TaskErrorKind,
    message: string,
    context: Record<string, unknown> = {},
  ) {
    super(
      `CAIRN_E_TASK_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
    );
  }
}
