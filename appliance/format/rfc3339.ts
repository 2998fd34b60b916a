import { FormatError } from "./errors.js";

/** `YYYY-MM-DDTHH:MM:SS` then `Z` or `±HH:MM`: the only shapes PBS reads (no fractions, no lowercase). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch seconds as RFC 3339 wall-clock time with a numeric offset (`+00:00`, never `Z`), as PBS
 * writes timestamps in key files. The offset defaults to the local zone's offset at that instant.
 */
export function formatRfc3339(epochSeconds: number, utcOffsetMinutes?: number): string {
  if (!Number.isSafeInteger(epochSeconds)) {
    throw new FormatError("invalid-argument", `timestamp must be whole epoch seconds`, {
      epochSeconds,
    });
  }
  const offset = utcOffsetMinutes ?? localOffsetMinutes(epochSeconds);
  if (!Number.isInteger(offset) || Math.abs(offset) >= 24 * 60) {
    throw new FormatError("invalid-argument", `UTC offset must be whole minutes within ±24 h`, {
      utcOffsetMinutes: offset,
    });
  }
  const wall = new Date((epochSeconds + offset * 60) * 1000);
  const year = wall.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new FormatError("invalid-argument", `year ${year} cannot be written as RFC 3339`, {
      epochSeconds,
    });
  }
  const sign = offset < 0 ? "-" : "+";
  const magnitude = Math.abs(offset);
  return (
    `${pad(year, 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(magnitude / 60))}:${pad(magnitude % 60)}`
  );
}

/** An RFC 3339 timestamp in the shapes PBS accepts, as epoch seconds. */
export function parseRfc3339(text: string): number {
  const match = RFC3339.exec(text);
  if (!match) {
    throw new FormatError("invalid-argument", `not an RFC 3339 timestamp: ${JSON.stringify(text)}`);
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHours = Number(match[8] ?? 0);
  const offsetMinutes = Number(match[9] ?? 0);
  const inRange =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 60 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59;
  if (!inRange) {
    throw new FormatError("invalid-argument", `RFC 3339 timestamp out of range: ${text}`);
  }
  const offset = (match[7] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  const days = daysSinceEpoch(year, month, day);
  return days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60;
}

function localOffsetMinutes(epochSeconds: number): number {
  // getTimezoneOffset is UTC minus local; historic zones may carry seconds, which RFC 3339 cannot show.
  return Math.trunc(-new Date(epochSeconds * 1000).getTimezoneOffset());
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date, without Date's two-digit-year quirk. */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const shiftedYear = month <= 2 ? year - 1 : year; // count years from March so Feb 29 ends the year
  const era = Math.floor(shiftedYear / 400);
  const yearOfEra = shiftedYear - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
