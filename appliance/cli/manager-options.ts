import { type Command, InvalidArgumentError } from "commander";

/** A whole number of at least `min`, for options like `--keep-last`. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const number = /^[0-9]{1,15}$/.test(value) ? Number(value) : Number.NaN;
    if (!(number >= min)) throw new InvalidArgumentError(`must be a whole number from ${min}`);
    return number;
  };
}

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];

/** PBS's boolean words; an option declared `[bool]` is true when given alone. */
export function booleanValue(value: string): boolean {
  const word = value.toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new InvalidArgumentError("must be true or false (also 1/0, yes/no, on/off)");
}

/** Epoch seconds (0: never) or a date like 2030-01-31 / 2030-01-31T12:00:00Z. */
export function expiry(value: string): number {
  if (/^[0-9]{1,15}$/.test(value)) return Number(value);
  const time = /^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(time)) {
    throw new InvalidArgumentError("must be epoch seconds (0: never) or a date like 2030-01-31");
  }
  return Math.floor(time / 1000);
}

/** For repeatable options: each use adds one value. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const KEEP_OPTIONS = [
  ["last", "keep the last <n> backups"],
  ["hourly", "keep the newest backup of each of the last <n> hours"],
  ["daily", "keep the newest backup of each of the last <n> days"],
  ["weekly", "keep the newest backup of each of the last <n> weeks"],
  ["monthly", "keep the newest backup of each of the last <n> months"],
  ["yearly", "keep the newest backup of each of the last <n> years"],
] as const;

/** `--keep-last <n>` … `--keep-yearly <n>`, as datastore options and for prune. */
export function addKeepOptions(command: Command): Command {
  for (const [period, about] of KEEP_OPTIONS) {
    command.option(`--keep-${period} <n>`, about, wholeNumber(1));
  }
  return command;
}

/** The API's `keep-*` parameters from the parsed options (commander names them keepLast …). */
export function keepParams(options: object): Record<string, number | undefined> {
  const values = options as Record<string, number | undefined>;
  return Object.fromEntries(
    KEEP_OPTIONS.map(([period]) => [
      `keep-${period}`,
      values[`keep${period[0]!.toUpperCase()}${period.slice(1)}`],
    ]),
  );
}
