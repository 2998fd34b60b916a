import { CairnError } from "../errors.js";

/** What went wrong; each kind is its own `CAIRN_E_SYSTEM_…` code. */
export type SystemErrorKind =
  | "bad-input"
  | "device-in-use"
  | "not-found"
  | "exists"
  | "unsupported"
  | "command-failed"
  | "parse-failed"
  | "apply-failed";

const HTTP_STATUS: Record<SystemErrorKind, number> = {
  "bad-input": 400,
  "device-in-use": 409,
  "not-found": 404,
  exists: 409,
  unsupported: 501,
  "command-failed": 500,
  "parse-failed": 500,
  "apply-failed": 500,
};

/** A system operation refused or failed; for bad input `context.field` names the input. */
export class SystemError extends CairnError {
  override name = "SystemError";

  constructor(
    readonly kind: SystemErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_SYSTEM_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}

/** The 400 for an input that breaks a rule, naming the input and its value. */
export function badInput(field: string, value: unknown, rule: string): SystemError {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  return new SystemError("bad-input", `invalid ${field} ${shown}: ${rule}`, {
    field,
    value: shown,
  });
}
