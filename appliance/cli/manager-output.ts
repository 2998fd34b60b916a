import { type Command, Option } from "commander";
import { type OutputFormat, parseOutputFormat, printJson } from "./output.js";
import { type Column, renderFields, renderTable } from "./table.js";

/** Adds `--output-format text|json|json-pretty` (default text) to a command. */
export function withOutputFormat(command: Command): Command {
  return command.addOption(
    new Option("--output-format <format>", "text, json or json-pretty")
      .argParser(parseOutputFormat)
      .default("text"),
  );
}

/** A listing: an aligned table, or the API's data as JSON. */
export function printRows<T>(format: OutputFormat, rows: readonly T[], columns: Column<T>[]): void {
  if (format === "text") process.stdout.write(renderTable(columns, rows));
  else printJson(rows, format);
}

/** One record: `label: value` lines, or the API's data as JSON. */
export function printRecord(
  format: OutputFormat,
  data: unknown,
  fields: readonly (readonly [string, string])[],
): void {
  if (format === "text") process.stdout.write(renderFields(fields));
  else printJson(data, format);
}

/** Epoch seconds as UTC ISO time; `zero` names what 0 means (`never` for expiry). */
export function showEpoch(seconds: number | undefined, zero = "-"): string {
  if (seconds === undefined) return "-";
  if (seconds === 0) return zero;
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

export function showBool(value: boolean | undefined): string {
  return value === undefined ? "-" : value ? "yes" : "no";
}

export function showText(value: string | number | undefined | null): string {
  return value === undefined || value === null || value === "" ? "-" : String(value);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** `1.5 GiB` for a byte count. */
export function showBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}
