/**
 * Wall-clock time in one time zone, as "wall seconds": the local date and time fields read as if
 * they were UTC. Converting back picks the first of two repeated local times and maps a local time
 * that does not exist (skipped by a DST change) to the instant the gap ends. Pure.
 */
import { JobError } from "./errors.js";

export interface ZoneClock {
  /** Local wall time of an instant (both in seconds). */
  wallOf(epoch: number): number;
  /** The instant showing wall time `wall`: its first occurrence, or the end of the gap holding it. */
  epochOf(wall: number): number;
}

const DAY = 86_400;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? "";
  let format = formatters.get(key);
  if (format) return format;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      calendar: "gregory",
      numberingSystem: "latn",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      hourCycle: "h23",
    });
  } catch (cause) {
    throw new JobError(
      "bad-time-zone",
      `invalid time zone ${JSON.stringify(timeZone)}: must be an IANA name such as Europe/Vienna`,
      { timeZone },
      { cause },
    );
  }
  formatters.set(key, format);
  return format;
}

/** The clock of `timeZone` (an IANA name), or of the process's zone when undefined. */
export function zoneClock(timeZone?: string): ZoneClock {
  const format = formatterFor(timeZone);
  const wallOf = (epoch: number): number => {
    const fields = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
    for (const part of format.formatToParts(epoch * 1000)) {
      if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
    }
    const { year, month, day, hour, minute, second } = fields;
    return Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
  };
  const offsetAt = (epoch: number) => wallOf(epoch) - epoch;
  const epochOf = (wall: number): number => {
    // zones change their offset at most once in two days: the offsets around cover both sides
    const offsets = [...new Set([offsetAt(wall - DAY), offsetAt(wall + DAY)])];
    const matches = offsets
      .map((offset) => wall - offset)
      .filter((epoch) => wallOf(epoch) === wall);
    if (matches.length > 0) return Math.min(...matches);
    let low = wall - Math.max(...offsets);
    let high = wall - Math.min(...offsets);
    // the smallest instant whose wall time is past `wall` is where the gap ends
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (wallOf(middle) > wall) high = middle;
      else low = middle + 1;
    }
    return high;
  };
  return { wallOf, epochOf };
}
