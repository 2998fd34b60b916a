import { CairnError } from "../errors.js";

export type SetupErrorKind = "bad-plan" | "bad-answer-file" | "step-failed";

const HTTP_STATUS: Record<SetupErrorKind, number> = {
  "bad-plan": 400,
  "bad-answer-file": 400,
  "step-failed": 500,
};

/** A setup plan refused (naming the field or answer-file key) or a step that failed. */
export class SetupError extends CairnError {
  override name = "SetupError";

  constructor(
    readonly kind: SetupErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_SETUP_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}
