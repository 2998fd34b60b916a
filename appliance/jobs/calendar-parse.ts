/**
 * Parser of PBS's calendar events, a subset of systemd.time(7): `[WEEKDAYS] [[YEAR-]MONTH-DAY]
 * [HOUR:MINUTE[:SECOND]]` plus the named shorthands. Pure; errors name the part that is wrong.
 */
import type { CalendarField, ValueRange } from "./calendar-field.js";
import { JobError } from "./errors.js";

/** What an event allows; weekdays use JavaScript's numbering (0 = Sunday), empty = every day. */
export interface CalendarSpec {
  readonly weekdays: readonly number[];
  readonly years: CalendarField;
  readonly months: CalendarField;
  readonly days: CalendarField;
  readonly hours: CalendarField;
  readonly minutes: CalendarField;
  readonly seconds: CalendarField;
}

const SHORTHANDS: Record<string, string> = {
  minutely: "*-*-* *:*:00",
  hourly: "*-*-* *:00:00",
  daily: "*-*-* 00:00:00",
  weekly: "mon *-*-* 00:00:00",
  monthly: "*-*-01 00:00:00",
  yearly: "*-01-01 00:00:00",
  annually: "*-01-01 00:00:00",
  quarterly: "*-01,04,07,10-01 00:00:00",
  semiannually: "*-01,07-01 00:00:00",
};

/** Monday first, as ranges like `mon..fri` read. */
const WEEKDAY_NAMES = [
  ["mon", "monday"],
  ["tue", "tuesday"],
  ["wed", "wednesday"],
  ["thu", "thursday"],
  ["fri", "friday"],
  ["sat", "saturday"],
  ["sun", "sunday"],
] as const;

interface Bounds {
  name: string;
  min: number;
  max: number;
}

const YEAR: Bounds = { name: "year", min: 1970, max: 9999 };
const MONTH: Bounds = { name: "month", min: 1, max: 12 };
const DAY: Bounds = { name: "day", min: 1, max: 31 };
const HOUR: Bounds = { name: "hour", min: 0, max: 23 };
const MINUTE: Bounds = { name: "minute", min: 0, max: 59 };
const SECOND: Bounds = { name: "second", min: 0, max: 59 };
const AT_MIDNIGHT = { hours: [one(0)], minutes: [one(0)], seconds: [one(0)] };

function one(value: number): ValueRange {
  return { start: value, end: value, step: 1 };
}

class Failure extends Error {}

export function parseCalendarSpec(text: string): CalendarSpec {
  try {
    return parseNormalized(text.trim().toLowerCase());
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    throw new JobError(
      "bad-calendar-event",
      `invalid calendar event ${JSON.stringify(text)}: ${err.message}`,
      { event: text },
    );
  }
}

function parseNormalized(text: string): CalendarSpec {
  if (text === "") throw new Failure("it is empty");
  const shorthand = Object.hasOwn(SHORTHANDS, text) ? SHORTHANDS[text] : undefined;
  if (shorthand !== undefined) return parseNormalized(shorthand);
  const tokens = text.split(/\s+/);
  if (
    tokens.length === 1 &&
    /^[a-z]+$/.test(text) &&
    !WEEKDAY_NAMES.some((names) => (names as readonly string[]).includes(text))
  ) {
    throw new Failure(
      `${JSON.stringify(text)} is neither a shorthand (${Object.keys(SHORTHANDS).join(", ")}) nor a weekday`,
    );
  }
  let at = 0;
  let weekdays: number[] = [];
  if (/^[a-z]/.test(tokens[at]!)) weekdays = parseWeekdays(tokens[at++]!);
  let date: Pick<CalendarSpec, "years" | "months" | "days"> = { years: [], months: [], days: [] };
  let time: Pick<CalendarSpec, "hours" | "minutes" | "seconds"> = AT_MIDNIGHT;
  if (at < tokens.length && tokens[at]!.includes("-")) date = parseDate(tokens[at++]!);
  if (at < tokens.length && tokens[at]!.includes(":")) time = parseTime(tokens[at++]!);
  if (at < tokens.length) {
    const extra = tokens[at]!;
    const why = /^[a-z]/.test(extra)
      ? "weekdays come first and only once"
      : "expected a date (YYYY-MM-DD or MM-DD) before a time (HH:MM[:SS]), each once";
    throw new Failure(`unexpected ${JSON.stringify(extra)}: ${why}`);
  }
  return { weekdays, ...date, ...time };
}

function weekdayIndex(name: string): number {
  const index = WEEKDAY_NAMES.findIndex((names) => (names as readonly string[]).includes(name));
  if (index < 0) {
    throw new Failure(
      `weekday ${JSON.stringify(name)}: must be one of ${WEEKDAY_NAMES.map(([short]) => short).join(", ")}`,
    );
  }
  return index;
}

/** `mon,wed..fri`; a range may wrap past Sunday (`sat..mon`). */
function parseWeekdays(token: string): number[] {
  const days = new Set<number>();
  for (const item of token.split(",")) {
    const [first, last, ...rest] = item.split("..");
    if (first === undefined || rest.length > 0)
      throw new Failure(`weekday range ${JSON.stringify(item)}`);
    const start = weekdayIndex(first);
    const end = last === undefined ? start : weekdayIndex(last);
    for (let day = start; ; day = (day + 1) % 7) {
      days.add((day + 1) % 7);
      if (day === end) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

function parseDate(token: string): Pick<CalendarSpec, "years" | "months" | "days"> {
  const parts = token.split("-");
  if (parts.length === 3) {
    return {
      years: parseField(parts[0]!, YEAR),
      months: parseField(parts[1]!, MONTH),
      days: parseField(parts[2]!, DAY),
    };
  }
  if (parts.length === 2) {
    return { years: [], months: parseField(parts[0]!, MONTH), days: parseField(parts[1]!, DAY) };
  }
  throw new Failure(`date ${JSON.stringify(token)}: must be YEAR-MONTH-DAY or MONTH-DAY`);
}

function parseTime(token: string): Pick<CalendarSpec, "hours" | "minutes" | "seconds"> {
  const parts = token.split(":");
  if (parts.length !== 2 && parts.length !== 3) {
    throw new Failure(`time ${JSON.stringify(token)}: must be HOUR:MINUTE or HOUR:MINUTE:SECOND`);
  }
  return {
    hours: parseField(parts[0]!, HOUR),
    minutes: parseField(parts[1]!, MINUTE),
    seconds: parts.length === 3 ? parseField(parts[2]!, SECOND) : [one(0)],
  };
}

const ITEM = /^(\*|[0-9]{1,4})(?:\.\.([0-9]{1,4}))?(?:\/([0-9]{1,4}))?$/;

/** `*`, `5`, `1..7`, `0/15`, `*\/10`, `8..18/2`, and comma lists of them. */
function parseField(text: string, bounds: Bounds): CalendarField {
  const ranges: ValueRange[] = [];
  for (const item of text.split(",")) {
    const bad = (why: string) => new Failure(`${bounds.name} ${JSON.stringify(item)}: ${why}`);
    const match = ITEM.exec(item);
    if (!match) throw bad("must be *, a number, a range A..B, or a repetition A/N or A..B/N");
    const [, first, last, repeat] = match;
    if (first === "*" && last !== undefined) throw bad("* cannot start a range");
    if (first === "*" && repeat === undefined) return [];
    const start = first === "*" ? bounds.min : Number(first);
    const step = repeat === undefined ? 1 : Number(repeat);
    const end = last !== undefined ? Number(last) : repeat !== undefined ? bounds.max : start;
    for (const value of [start, end]) {
      if (value < bounds.min || value > bounds.max) {
        throw bad(`${value} is outside ${bounds.min}..${bounds.max}`);
      }
    }
    if (end < start) throw bad(`the range ends before it starts`);
    if (step < 1) throw bad("the repetition must be at least 1");
    ranges.push({ start, end, step });
  }
  return ranges;
}
