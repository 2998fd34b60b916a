/**
 * A parsed calendar event (PBS's schedule syntax) and the computation of its next occurrence in
 * local time. Pure: the time zone is an argument, the process's own zone when omitted.
 */
import { allows, type CalendarField, formatField, nextAllowed } from "./calendar-field.js";
import { type CalendarSpec, parseCalendarSpec } from "./calendar-parse.js";
import { zoneClock } from "./zone-clock.js";

/** Weekday and date patterns repeat after 400 Gregorian years: past that, nothing will match. */
const SEARCH_YEARS = 400;
const WEEKDAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export class CalendarEvent {
  private constructor(
    /** The text as given. */
    readonly text: string,
    readonly spec: CalendarSpec,
  ) {}

  /** Throws a JobError (`CAIRN_E_JOB_BAD_CALENDAR_EVENT`) naming the bad part. */
  static parse(text: string): CalendarEvent {
    return new CalendarEvent(text, parseCalendarSpec(text));
  }

  /**
   * The first occurrence strictly after `after` (whole seconds), or undefined when there is none
   * (e.g. `2000-01-01` in the past, `*-02-30`). A local time skipped by a DST change runs when
   * the gap ends; a local time that happens twice runs at its first occurrence only.
   */
  next(after: Date, timeZone?: string): Date | undefined {
    const clock = zoneClock(timeZone);
    const afterEpoch = Math.floor(after.getTime() / 1000);
    let wall = clock.wallOf(afterEpoch);
    for (;;) {
      const candidate = nextWall(this.spec, wall);
      if (candidate === undefined) return undefined;
      const epoch = clock.epochOf(candidate);
      if (epoch > afterEpoch) return new Date(epoch * 1000);
      // inside a repeated hour: the first occurrence already passed, jump past `after` in wall time
      wall = candidate + Math.max(0, afterEpoch - epoch);
    }
  }

  /** The `count` next occurrences after `after`. */
  upcoming(after: Date, count: number, timeZone?: string): Date[] {
    const times: Date[] = [];
    let from = after;
    while (times.length < count) {
      const next = this.next(from, timeZone);
      if (next === undefined) break;
      times.push(next);
      from = next;
    }
    return times;
  }

  /** The normalized systemd form, e.g. `mon..fri *-*-* 02:00:00`. */
  toString(): string {
    const { spec } = this;
    const days =
      spec.weekdays.length > 0 ? `${spec.weekdays.map((d) => WEEKDAY_NAMES[d]).join(",")} ` : "";
    const date = `${formatField(spec.years, 4)}-${formatField(spec.months)}-${formatField(spec.days)}`;
    const time = `${formatField(spec.hours)}:${formatField(spec.minutes)}:${formatField(spec.seconds)}`;
    return `${days}${date} ${time}`;
  }
}

/** The smallest wall time (seconds, fields read as UTC) after `wall` that the spec allows. */
function nextWall(spec: CalendarSpec, wall: number): number | undefined {
  let t = wall + 1;
  const lastYear = new Date(wall * 1000).getUTCFullYear() + SEARCH_YEARS;
  for (;;) {
    const d = new Date(t * 1000);
    const [year, month, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    const [hour, minute, second] = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    const at = (...fields: [number, number, number?, number?, number?, number?]) =>
      Date.UTC(
        fields[0],
        fields[1] - 1,
        fields[2] ?? 1,
        fields[3] ?? 0,
        fields[4] ?? 0,
        fields[5] ?? 0,
      ) / 1000;
    if (year > lastYear) return undefined;
    const nextYear = nextAllowed(spec.years, year);
    if (nextYear === undefined || nextYear > lastYear) return undefined;
    if (nextYear !== year) {
      t = at(nextYear, 1);
      continue;
    }
    const nextMonth = nextAllowed(spec.months, month);
    if (nextMonth !== month) {
      t = nextMonth === undefined ? at(year + 1, 1) : at(year, nextMonth);
      continue;
    }
    const monthDays = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const nextDay = nextAllowed(spec.days, day);
    if (nextDay === undefined || nextDay > monthDays) {
      t = at(year, month + 1);
      continue;
    }
    if (nextDay !== day) {
      t = at(year, month, nextDay);
      continue;
    }
    if (spec.weekdays.length > 0 && !spec.weekdays.includes(d.getUTCDay())) {
      t = at(year, month, day + 1);
      continue;
    }
    const step = stepWithin(
      spec.hours,
      hour,
      () => at(year, month, day + 1),
      (h) => at(year, month, day, h),
    );
    if (step !== undefined) {
      t = step;
      continue;
    }
    const minuteStep = stepWithin(
      spec.minutes,
      minute,
      () => at(year, month, day, hour + 1),
      (m) => at(year, month, day, hour, m),
    );
    if (minuteStep !== undefined) {
      t = minuteStep;
      continue;
    }
    const secondStep = stepWithin(
      spec.seconds,
      second,
      () => at(year, month, day, hour, minute + 1),
      (s) => at(year, month, day, hour, minute, s),
    );
    if (secondStep !== undefined) {
      t = secondStep;
      continue;
    }
    return t;
  }
}

/** Undefined when `value` is allowed; else where to look next (a later value, or the next unit). */
function stepWithin(
  field: CalendarField,
  value: number,
  carry: () => number,
  to: (next: number) => number,
): number | undefined {
  if (allows(field, value)) return undefined;
  const next = nextAllowed(field, value);
  return next === undefined ? carry() : to(next);
}
