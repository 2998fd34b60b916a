import test from "ava";
import { CalendarEvent } from "../../appliance/jobs/calendar-event.js";
import { JobError } from "../../appliance/jobs/errors.js";

/** Local wall time in `zone` as `YYYY-MM-DD HH:MM:SS`. */
function local(date: Date, zone: string): string {
  return date.toLocaleString("sv-SE", { timeZone: zone });
}

interface Row {
  event: string;
  after: string;
  zone: string;
  /** Expected next occurrences in local time of `zone`, worked out by hand. */
  next: string[];
  /** Expected instants (UTC) where the local form alone is ambiguous. */
  utc?: string[];
}

const ROWS: Row[] = [
  {
    event: "daily",
    after: "2024-01-31T12:00:00Z",
    zone: "UTC",
    next: ["2024-02-01 00:00:00", "2024-02-02 00:00:00"],
  },
  {
    event: "hourly",
    after: "2024-12-31T23:10:00Z",
    zone: "UTC",
    next: ["2025-01-01 00:00:00", "2025-01-01 01:00:00"],
  },
  {
    event: "minutely",
    after: "2024-05-05T10:59:59Z",
    zone: "UTC",
    next: ["2024-05-05 11:00:00", "2024-05-05 11:01:00"],
  },
  // 2024-01-03 is a Wednesday: the next Monday is the 8th
  {
    event: "weekly",
    after: "2024-01-03T00:00:00Z",
    zone: "UTC",
    next: ["2024-01-08 00:00:00", "2024-01-15 00:00:00"],
  },
  {
    event: "monthly",
    after: "2024-01-31T23:59:59Z",
    zone: "UTC",
    next: ["2024-02-01 00:00:00", "2024-03-01 00:00:00"],
  },
  {
    event: "yearly",
    after: "2024-06-01T00:00:00Z",
    zone: "UTC",
    next: ["2025-01-01 00:00:00", "2026-01-01 00:00:00"],
  },
  // Friday 2024-01-05 after 03:00: Monday, Tuesday
  {
    event: "mon..fri 02:00",
    after: "2024-01-05T03:00:00Z",
    zone: "UTC",
    next: ["2024-01-08 02:00:00", "2024-01-09 02:00:00"],
  },
  // the first Saturday of each month
  {
    event: "sat *-1..7 03:00",
    after: "2024-01-01T00:00:00Z",
    zone: "UTC",
    next: ["2024-01-06 03:00:00", "2024-02-03 03:00:00", "2024-03-02 03:00:00"],
  },
  {
    event: "*:0/15",
    after: "2024-01-01T10:50:00Z",
    zone: "UTC",
    next: ["2024-01-01 11:00:00", "2024-01-01 11:15:00", "2024-01-01 11:30:00"],
  },
  {
    event: "2/3:00",
    after: "2024-01-01T21:00:00Z",
    zone: "UTC",
    next: ["2024-01-01 23:00:00", "2024-01-02 02:00:00", "2024-01-02 05:00:00"],
  },
  {
    event: "*-*-01",
    after: "2024-12-15T00:00:00Z",
    zone: "UTC",
    next: ["2025-01-01 00:00:00", "2025-02-01 00:00:00"],
  },
  // months without a 31st are skipped
  {
    event: "*-*-31 12:00",
    after: "2024-01-31T12:00:00Z",
    zone: "UTC",
    next: ["2024-03-31 12:00:00", "2024-05-31 12:00:00", "2024-07-31 12:00:00"],
  },
  // leap days: 2100 is not a leap year
  {
    event: "*-02-29",
    after: "2024-03-01T00:00:00Z",
    zone: "UTC",
    next: ["2028-02-29 00:00:00", "2032-02-29 00:00:00"],
  },
  {
    event: "*-02-29 08:00",
    after: "2096-03-01T00:00:00Z",
    zone: "UTC",
    next: ["2104-02-29 08:00:00"],
  },
  {
    event: "tue,thu 12:30:15",
    after: "2024-02-29T12:30:15Z",
    zone: "UTC",
    next: ["2024-03-05 12:30:15", "2024-03-07 12:30:15"],
  },
  {
    event: "sat..mon 06:00",
    after: "2024-01-05T00:00:00Z",
    zone: "UTC",
    next: [
      "2024-01-06 06:00:00",
      "2024-01-07 06:00:00",
      "2024-01-08 06:00:00",
      "2024-01-13 06:00:00",
    ],
  },
  {
    event: "2025-01,07-01 8..18/5:00",
    after: "2024-01-01T00:00:00Z",
    zone: "UTC",
    next: [
      "2025-01-01 08:00:00",
      "2025-01-01 13:00:00",
      "2025-01-01 18:00:00",
      "2025-07-01 08:00:00",
    ],
  },
  {
    event: "*:*:0/20",
    after: "2024-01-01T00:00:41Z",
    zone: "UTC",
    next: ["2024-01-01 00:01:00", "2024-01-01 00:01:20"],
  },
  // local time, not UTC
  {
    event: "daily",
    after: "2024-06-30T21:30:00Z",
    zone: "Europe/Vienna",
    next: ["2024-07-01 00:00:00"],
    utc: ["2024-06-30T22:00:00.000Z"],
  },
  // spring forward in Vienna (2024-03-31 02:00 CET → 03:00 CEST): 02:30 does not exist, runs when the gap ends
  {
    event: "02:30",
    after: "2024-03-30T12:00:00Z",
    zone: "Europe/Vienna",
    next: ["2024-03-31 03:00:00", "2024-04-01 02:30:00"],
    utc: ["2024-03-31T01:00:00.000Z", "2024-04-01T00:30:00.000Z"],
  },
  {
    event: "*:0/30",
    after: "2024-03-31T00:40:00Z",
    zone: "Europe/Vienna",
    next: ["2024-03-31 03:00:00", "2024-03-31 03:30:00"],
    utc: ["2024-03-31T01:00:00.000Z", "2024-03-31T01:30:00.000Z"],
  },
  // fall back (2024-10-27 03:00 CEST → 02:00 CET): 02:30 happens twice and runs once, at its first occurrence
  {
    event: "02:30",
    after: "2024-10-26T12:00:00Z",
    zone: "Europe/Vienna",
    next: ["2024-10-27 02:30:00", "2024-10-28 02:30:00"],
    utc: ["2024-10-27T00:30:00.000Z", "2024-10-28T01:30:00.000Z"],
  },
  {
    event: "hourly",
    after: "2024-10-27T00:30:00Z",
    zone: "Europe/Vienna",
    next: ["2024-10-27 03:00:00", "2024-10-27 04:00:00"],
    utc: ["2024-10-27T02:00:00.000Z", "2024-10-27T03:00:00.000Z"],
  },
  // New York springs forward at 02:00 local on 2024-03-10
  {
    event: "*-*-* 02:15",
    after: "2024-03-09T12:00:00Z",
    zone: "America/New_York",
    next: ["2024-03-10 03:00:00", "2024-03-11 02:15:00"],
    utc: ["2024-03-10T07:00:00.000Z", "2024-03-11T06:15:00.000Z"],
  },
];

for (const row of ROWS) {
  test(`${row.event} after ${row.after} in ${row.zone}`, (t) => {
    const event = CalendarEvent.parse(row.event);
    const times = event.upcoming(new Date(row.after), row.next.length, row.zone);
    t.deepEqual(
      times.map((time) => local(time, row.zone)),
      row.next,
    );
    if (row.utc)
      t.deepEqual(
        times.map((time) => time.toISOString()),
        row.utc,
      );
  });
}

test("next is strictly after, even when `after` is an occurrence", (t) => {
  const event = CalendarEvent.parse("*:00");
  t.is(
    event.next(new Date("2024-01-01T05:00:00Z"), "UTC")?.toISOString(),
    "2024-01-01T06:00:00.000Z",
  );
  t.is(
    event.next(new Date("2024-01-01T05:00:00.900Z"), "UTC")?.toISOString(),
    "2024-01-01T06:00:00.000Z",
  );
});

test("an event that can never happen again has no next time", (t) => {
  t.is(CalendarEvent.parse("*-02-30").next(new Date("2024-01-01T00:00:00Z"), "UTC"), undefined);
  t.is(CalendarEvent.parse("2020-01-01").next(new Date("2024-01-01T00:00:00Z"), "UTC"), undefined);
});

test("normalized form", (t) => {
  t.is(CalendarEvent.parse("mon..fri 2:00").toString(), "mon,tue,wed,thu,fri *-*-* 02:00:00");
  t.is(CalendarEvent.parse("*:0/15").toString(), "*-*-* *:00..59/15:00");
  t.is(CalendarEvent.parse("weekly").toString(), "mon *-*-* 00:00:00");
  t.is(CalendarEvent.parse("Daily").toString(), "*-*-* 00:00:00");
});

const BAD: [string, RegExp][] = [
  ["", /it is empty/],
  ["daly", /"daly" is neither a shorthand \(minutely, hourly, daily/],
  ["mon..fry 02:00", /weekday "fry": must be one of mon, tue/],
  ["*:0/15x", /minute "0\/15x": must be \*, a number/],
  ["25:00", /hour "25": 25 is outside 0\.\.23/],
  ["*-13-01", /month "13": 13 is outside 1\.\.12/],
  ["*-*-0", /day "0": 0 is outside 1\.\.31/],
  ["10:61", /minute "61": 61 is outside 0\.\.59/],
  ["12:00:60", /second "60"/],
  ["5..3:00", /hour "5\.\.3": the range ends before it starts/],
  ["*/0:00", /hour "\*\/0": the repetition must be at least 1/],
  ["01:00 mon", /unexpected "mon": weekdays come first/],
  ["1-2-3-4", /date "1-2-3-4": must be YEAR-MONTH-DAY or MONTH-DAY/],
  ["1:2:3:4", /time "1:2:3:4": must be HOUR:MINUTE/],
  ["12:00 *-*-*", /unexpected "\*-\*-\*": expected a date .* before a time/],
];

for (const [text, message] of BAD) {
  test(`rejects ${JSON.stringify(text)}`, (t) => {
    const error = t.throws(() => CalendarEvent.parse(text), { instanceOf: JobError });
    t.is(error?.code, "CAIRN_E_JOB_BAD_CALENDAR_EVENT");
    t.is(error?.httpStatus, 400);
    t.regex(error?.message ?? "", message);
  });
}

test("an unknown time zone is a typed error", (t) => {
  const error = t.throws(() => CalendarEvent.parse("daily").next(new Date(0), "Mars/Olympus"), {
    instanceOf: JobError,
  });
  t.is(error?.code, "CAIRN_E_JOB_BAD_TIME_ZONE");
});
