import { type Command, Option } from "commander";
import { ClientError } from "../client/errors.js";
import { type ClientEnvironment, clientEnvironment } from "../client/repository-session.js";
import { parseByteSize } from "../client/units.js";
import type { RateLimit } from "../util/token-bucket.js";
import { type OutputFormat, parseOutputFormat } from "./output.js";
import { type Column, renderFields, renderTable } from "./table.js";

/** Options every command that talks to a server has. */
export interface RepositoryOptions {
  repository?: string;
  ns?: string;
}

export function withRepository(command: Command): Command {
  return command
    .option("--repository <repo>", "[[auth-id@]host[:port]:]datastore (default $CAIRN_REPOSITORY)")
    .option("--ns <namespace>", "namespace (a/b), default the root");
}

export function withOutputFormat(command: Command): Command {
  return command.addOption(
    new Option("--output-format <format>", "text, json or json-pretty")
      .argParser(parseOutputFormat)
      .default("text"),
  );
}

/** `--rate`/`--burst` as parsed by `withRateLimit`. */
export interface RateLimitOptions {
  rate?: number;
  burst?: number;
}

/** `--rate` and `--burst` in bytes per second, written as PBS takes them ("10M", "1MiB"). */
export function withRateLimit(command: Command, what: string): Command {
  return command
    .addOption(
      new Option("--rate <bytes>", `limit the bytes ${what} per second (e.g. 10M, 1MiB)`).argParser(
        (text) => byteSizeArgument("--rate", text),
      ),
    )
    .addOption(
      new Option(
        "--burst <bytes>",
        "bytes allowed at once after a pause (default: --rate)",
      ).argParser((text) => byteSizeArgument("--burst", text)),
    );
}

/** The rate limit the options ask for, if any. */
export function rateLimitOf(options: RateLimitOptions): RateLimit | undefined {
  if (options.rate === undefined) {
    if (options.burst !== undefined) throw new ClientError("bad-argument", "--burst needs --rate");
    return undefined;
  }
  return { rate: options.rate, ...(options.burst !== undefined && { burst: options.burst }) };
}

function byteSizeArgument(option: string, text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes < 1) {
    throw new ClientError(
      "bad-argument",
      `${option} must be a positive byte size like 500K, 10M or 1MiB, got '${text}'`,
    );
  }
  return bytes;
}

/** For options given several times: `--exclude a --exclude b`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The environment commands run in; tests replace it to run them in-process. */
let environmentOf: () => ClientEnvironment = () => clientEnvironment();

export function commandEnvironment(): ClientEnvironment {
  return environmentOf();
}

export function setCommandEnvironment(make: () => ClientEnvironment): void {
  environmentOf = make;
}

/** A listing as a table or as the API's data in JSON. */
export function writeRows<T>(
  environment: ClientEnvironment,
  format: OutputFormat,
  rows: readonly T[],
  columns: Column<T>[],
): void {
  environment.stdout.write(format === "text" ? renderTable(columns, rows) : json(rows, format));
}

/** One record as `label: value` lines or as JSON. */
export function writeRecord(
  environment: ClientEnvironment,
  format: OutputFormat,
  data: unknown,
  fields: readonly (readonly [string, string])[],
): void {
  environment.stdout.write(format === "text" ? renderFields(fields) : json(data, format));
}

export function json(value: unknown, format: OutputFormat): string {
  return `${JSON.stringify(value, null, format === "json-pretty" ? 2 : undefined)}\n`;
}

/** Epoch seconds as UTC ISO time. */
export function showTime(seconds: number | undefined): string {
  return seconds === undefined ? "-" : `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}
