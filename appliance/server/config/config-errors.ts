import { CairnError } from "../../errors.js";

export type ConfigErrorKind = "bad-file" | "changed" | "not-found" | "exists" | "bad-value";

const HTTP_STATUS: Record<ConfigErrorKind, number> = {
  "bad-file": 500,
  changed: 409,
  "not-found": 404,
  exists: 409,
  "bad-value": 400,
};

/** A configuration file that cannot be used, or a refused change to one (`CAIRN_E_CONFIG_…`). */
export class ConfigError extends CairnError {
  override name = "ConfigError";

  constructor(
    readonly kind: ConfigErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_CONFIG_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}
