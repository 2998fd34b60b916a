import { CairnError } from "../errors.js";

export type OutputFormat = "text" | "json" | "json-pretty";

/** Validates an `--output-format` value. */
export function parseOutputFormat(value: string): OutputFormat {
  if (value === "text" || value === "json" || value === "json-pretty") return value;
  throw new CairnError(
    "CAIRN_E_BAD_OPTION",
    `--output-format must be text, json or json-pretty, got '${value}'`,
  );
}

/** Prints a value as one line of JSON or pretty JSON. */
export function printJson(value: unknown, format: "json" | "json-pretty"): void {
  process.stdout.write(
    `${JSON.stringify(value, null, format === "json-pretty" ? 2 : undefined)}\n`,
  );
}
