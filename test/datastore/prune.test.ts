import test from "ava";
import type { DatastoreError } from "../../appliance/datastore/errors.js";
import {
  type PruneOptions,
  type PruneReason,
  pruneSelect,
  validatePruneOptions,
} from "../../appliance/datastore/prune.js";

// The default zone is the process's; one test below relies on it being a zone with DST.
process.env.TZ = "Europe/Vienna";

interface Snapshot {
  readonly name: string;
  readonly backupTime: number;
  readonly finished: boolean;
  readonly protected: boolean;
}

function snap(iso: string, flags: { unfinished?: true; protected?: true } = {}): Snapshot {
  return {
    name: iso,
    backupTime: Date.parse(iso) / 1000,
    finished: flags.unfinished === undefined,
    protected: flags.protected === true,
  };
}

/** `[snapshot, reason]` pairs, newest first, as the expected answers below are written. */
function outcome(snapshots: Snapshot[], options: PruneOptions, timeZone?: string) {
  const decisions = pruneSelect(snapshots, options, timeZone === undefined ? {} : { timeZone });
  for (const decision of decisions) {
    if (decision.keep !== (decision.reason !== "remove")) throw new Error("keep/reason disagree");
  }
  return decisions.map((decision) => [decision.snapshot.name, decision.reason]);
}

interface Case {
  title: string;
  snapshots: Snapshot[];
  options: PruneOptions;
  timeZone: string;
  /** Every snapshot, newest first, with the reason it is kept or "remove". */
  expected: [string, PruneReason][];
}

// The four snapshots of the keep-last / keep-daily examples in PBS's own prune tests.
const DEC_02 = "2019-12-02T11:59:15Z";
const DEC_03 = "2019-12-03T11:59:15Z";
const DEC_04 = "2019-12-04T11:59:15Z";
const DEC_04_LATE = "2019-12-04T12:59:15Z";
const FOUR = [DEC_02, DEC_03, DEC_04, DEC_04_LATE].map((iso) => snap(iso));

// Nine snapshots over a year and a month, at the same time of day (also from PBS's tests).
const Y2018 = "2018-11-15T11:59:15Z";
const NOV_15 = "2019-11-15T11:59:15Z";
const NOV_21 = "2019-11-21T11:59:15Z"; // Thursday, ISO week 47
const NOV_22 = "2019-11-22T11:59:15Z"; // Friday, ISO week 47
const NOV_29 = "2019-11-29T11:59:15Z"; // Friday, ISO week 48
const DEC_01 = "2019-12-01T11:59:15Z"; // Sunday, ISO week 48
const NINE = [Y2018, NOV_15, NOV_21, NOV_22, NOV_29, DEC_01, DEC_02, DEC_03, DEC_04].map((iso) =>
  snap(iso),
);

const H09_39 = "2019-11-15T09:39:15Z";
const H10_49 = "2019-11-15T10:49:15Z";
const H10_59 = "2019-11-15T10:59:15Z";
const H11_39 = "2019-11-15T11:39:15Z";
const H11_49 = "2019-11-15T11:49:15Z";
const H11_59 = "2019-11-15T11:59:15Z";
const HOURS = [H09_39, H10_49, H10_59, H11_39, H11_49, H11_59].map((iso) => snap(iso));

const pbsExamples: Case[] = [
  {
    title: "keep-last 4 keeps all four",
    snapshots: FOUR,
    options: { keepLast: 4 },
    timeZone: "UTC",
    expected: [
      [DEC_04_LATE, "keep-last"],
      [DEC_04, "keep-last"],
      [DEC_03, "keep-last"],
      [DEC_02, "keep-last"],
    ],
  },
  {
    title: "keep-last 3 removes the oldest",
    snapshots: FOUR,
    options: { keepLast: 3 },
    timeZone: "UTC",
    expected: [
      [DEC_04_LATE, "keep-last"],
      [DEC_04, "keep-last"],
      [DEC_03, "keep-last"],
      [DEC_02, "remove"],
    ],
  },
  {
    title: "keep-last 2 + keep-daily 2: the daily rule starts after the days keep-last covered",
    snapshots: FOUR,
    options: { keepLast: 2, keepDaily: 2 },
    timeZone: "UTC",
    expected: [
      [DEC_04_LATE, "keep-last"],
      [DEC_04, "keep-last"],
      [DEC_03, "keep-daily"],
      [DEC_02, "keep-daily"],
    ],
  },
  {
    title: "keep-daily 3 keeps the newest of each day",
    snapshots: FOUR,
    options: { keepDaily: 3 },
    timeZone: "UTC",
    expected: [
      [DEC_04_LATE, "keep-daily"],
      [DEC_04, "remove"],
      [DEC_03, "keep-daily"],
      [DEC_02, "keep-daily"],
    ],
  },
  {
    title: "keep-daily 2 stops at the third day",
    snapshots: FOUR,
    options: { keepDaily: 2 },
    timeZone: "UTC",
    expected: [
      [DEC_04_LATE, "keep-daily"],
      [DEC_04, "remove"],
      [DEC_03, "keep-daily"],
      [DEC_02, "remove"],
    ],
  },
  {
    title: "keep-weekly 5 over one ISO week keeps one",
    snapshots: FOUR,
    options: { keepWeekly: 5 },
    timeZone: "UTC",
    expected: [
      [DEC_04_LATE, "keep-weekly"],
      [DEC_04, "remove"],
      [DEC_03, "remove"],
      [DEC_02, "remove"],
    ],
  },
  {
    title: "keep-daily 1 + keep-weekly 5: the only week is already covered by the daily keep",
    snapshots: FOUR,
    options: { keepDaily: 1, keepWeekly: 5 },
    timeZone: "UTC",
    expected: [
      [DEC_04_LATE, "keep-daily"],
      [DEC_04, "remove"],
      [DEC_03, "remove"],
      [DEC_02, "remove"],
    ],
  },
  {
    title: "keep-weekly 5 + keep-monthly 6 + keep-yearly 7 in one week keeps one",
    snapshots: FOUR,
    options: { keepWeekly: 5, keepMonthly: 6, keepYearly: 7 },
    timeZone: "UTC",
    expected: [
      [DEC_04_LATE, "keep-weekly"],
      [DEC_04, "remove"],
      [DEC_03, "remove"],
      [DEC_02, "remove"],
    ],
  },
  {
    title: "keep-last 1 + keep-daily 1",
    snapshots: NINE,
    options: { keepLast: 1, keepDaily: 1 },
    timeZone: "UTC",
    expected: [
      [DEC_04, "keep-last"],
      [DEC_03, "keep-daily"],
      [DEC_02, "remove"],
      [DEC_01, "remove"],
      [NOV_29, "remove"],
      [NOV_22, "remove"],
      [NOV_21, "remove"],
      [NOV_15, "remove"],
      [Y2018, "remove"],
    ],
  },
  {
    title: "keep-daily 1 + keep-weekly 1: the week before the covered one",
    snapshots: NINE,
    options: { keepDaily: 1, keepWeekly: 1 },
    timeZone: "UTC",
    expected: [
      [DEC_04, "keep-daily"],
      [DEC_03, "remove"],
      [DEC_02, "remove"],
      [DEC_01, "keep-weekly"],
      [NOV_29, "remove"],
      [NOV_22, "remove"],
      [NOV_21, "remove"],
      [NOV_15, "remove"],
      [Y2018, "remove"],
    ],
  },
  {
    // Nov 29 shares ISO week 48 with Dec 1, so keep-weekly marked it "remove"; keep-monthly no
    // longer sees it and keeps Nov 22 for November.
    title:
      "keep-daily 1 + keep-weekly 1 + keep-monthly 1: a snapshot removed by one rule is not kept by the next",
    snapshots: NINE,
    options: { keepDaily: 1, keepWeekly: 1, keepMonthly: 1 },
    timeZone: "UTC",
    expected: [
      [DEC_04, "keep-daily"],
      [DEC_03, "remove"],
      [DEC_02, "remove"],
      [DEC_01, "keep-weekly"],
      [NOV_29, "remove"],
      [NOV_22, "keep-monthly"],
      [NOV_21, "remove"],
      [NOV_15, "remove"],
      [Y2018, "remove"],
    ],
  },
  {
    title: "keep-monthly 1 + keep-yearly 1 reaches back to the previous year",
    snapshots: NINE,
    options: { keepMonthly: 1, keepYearly: 1 },
    timeZone: "UTC",
    expected: [
      [DEC_04, "keep-monthly"],
      [DEC_03, "remove"],
      [DEC_02, "remove"],
      [DEC_01, "remove"],
      [NOV_29, "remove"],
      [NOV_22, "remove"],
      [NOV_21, "remove"],
      [NOV_15, "remove"],
      [Y2018, "keep-yearly"],
    ],
  },
  {
    title: "keep-hourly 3 keeps the newest of each of three hours",
    snapshots: HOURS,
    options: { keepHourly: 3 },
    timeZone: "UTC",
    expected: [
      [H11_59, "keep-hourly"],
      [H11_49, "remove"],
      [H11_39, "remove"],
      [H10_59, "keep-hourly"],
      [H10_49, "remove"],
      [H09_39, "keep-hourly"],
    ],
  },
  {
    title: "keep-hourly 2 stops at the third hour",
    snapshots: HOURS,
    options: { keepHourly: 2 },
    timeZone: "UTC",
    expected: [
      [H11_59, "keep-hourly"],
      [H11_49, "remove"],
      [H11_39, "remove"],
      [H10_59, "keep-hourly"],
      [H10_49, "remove"],
      [H09_39, "remove"],
    ],
  },
];

// Vienna leaves summer time on 2021-10-31 at 01:00 UTC (03:00 CEST becomes 02:00 CET), so local
// hour 02 happens twice; it enters summer time on 2021-03-28 at 01:00 UTC.
const FALL_BACK = [
  "2021-10-31T02:30:00Z", // 03:30 CET
  "2021-10-31T01:30:00Z", // 02:30 CET
  "2021-10-31T00:30:00Z", // 02:30 CEST
  "2021-10-30T23:30:00Z", // 01:30 CEST
];
const SPRING_FORWARD = [
  "2021-03-28T22:30:00Z", // Mar 29 00:30 CEST
  "2021-03-28T21:30:00Z", // Mar 28 23:30 CEST
  "2021-03-27T23:30:00Z", // Mar 28 00:30 CET
  "2021-03-27T22:30:00Z", // Mar 27 23:30 CET
];

const noon = (day: string) => `${day}T12:00:00Z`;

const calendarEdges: Case[] = [
  {
    // 2020-12-28 (Mon) .. 2021-01-03 (Sun) is ISO week 2020-W53, across the new year.
    title: "ISO week 53: Dec 28 2020 to Jan 3 2021 is one week",
    snapshots: [
      "2021-01-04",
      "2021-01-03",
      "2021-01-01",
      "2020-12-31",
      "2020-12-28",
      "2020-12-27",
      "2020-12-21",
      "2020-12-20",
    ].map((day) => snap(noon(day))),
    options: { keepWeekly: 3 },
    timeZone: "UTC",
    expected: [
      [noon("2021-01-04"), "keep-weekly"], // 2021-W01
      [noon("2021-01-03"), "keep-weekly"], // 2020-W53
      [noon("2021-01-01"), "remove"],
      [noon("2020-12-31"), "remove"],
      [noon("2020-12-28"), "remove"],
      [noon("2020-12-27"), "keep-weekly"], // 2020-W52
      [noon("2020-12-21"), "remove"],
      [noon("2020-12-20"), "remove"], // 2020-W51, a fourth week
    ],
  },
  {
    // 2024-12-30 (Mon) belongs to ISO year 2025, week 1.
    title: "ISO week year: Dec 30 2024 shares week 2025-W01 with Jan 5 2025",
    snapshots: ["2025-01-05", "2024-12-30", "2024-12-29", "2024-12-23"].map((day) =>
      snap(noon(day)),
    ),
    options: { keepWeekly: 2 },
    timeZone: "UTC",
    expected: [
      [noon("2025-01-05"), "keep-weekly"],
      [noon("2024-12-30"), "remove"],
      [noon("2024-12-29"), "keep-weekly"], // 2024-W52
      [noon("2024-12-23"), "remove"],
    ],
  },
  {
    // keep-weekly marks Dec 31 "remove" (same week 2020-W53 as Jan 1), so keep-yearly keeps Dec 1
    // for 2020, not Dec 31.
    title: "ISO week 53 + keep-yearly: the year rule skips a snapshot the week rule removed",
    snapshots: ["2021-01-01", "2020-12-31", "2020-12-01", "2019-06-01"].map((day) =>
      snap(noon(day)),
    ),
    options: { keepWeekly: 1, keepYearly: 2 },
    timeZone: "UTC",
    expected: [
      [noon("2021-01-01"), "keep-weekly"],
      [noon("2020-12-31"), "remove"],
      [noon("2020-12-01"), "keep-yearly"],
      [noon("2019-06-01"), "keep-yearly"],
    ],
  },
  ...yearBoundaryCases(),
  ...dstCases(),
];

/** New year's eve 23:30 UTC is already the new year in Vienna. */
function yearBoundaryCases(): Case[] {
  const times = [
    "2024-06-01T12:00:00Z",
    "2023-12-31T23:30:00Z",
    "2023-12-31T22:30:00Z",
    "2023-06-01T12:00:00Z",
    "2022-12-31T23:30:00Z",
  ];
  const snapshots = times.map((iso) => snap(iso));
  return [
    {
      title: "year boundary in UTC: three calendar years",
      snapshots,
      options: { keepYearly: 3 },
      timeZone: "UTC",
      expected: [
        [times[0]!, "keep-yearly"],
        [times[1]!, "keep-yearly"],
        [times[2]!, "remove"],
        [times[3]!, "remove"],
        [times[4]!, "keep-yearly"],
      ],
    },
    {
      title: "year boundary in Europe/Vienna: the 23:30 UTC snapshots count for the next year",
      snapshots,
      options: { keepYearly: 3 },
      timeZone: "Europe/Vienna",
      expected: [
        [times[0]!, "keep-yearly"], // 2024
        [times[1]!, "remove"], // 2024-01-01 00:30 local
        [times[2]!, "keep-yearly"], // 2023-12-31 23:30 local
        [times[3]!, "remove"], // 2023
        [times[4]!, "remove"], // 2023-01-01 00:30 local
      ],
    },
  ];
}

function dstCases(): Case[] {
  const fallBack = FALL_BACK.map((iso) => snap(iso));
  const springForward = SPRING_FORWARD.map((iso) => snap(iso));
  return [
    {
      title: "DST end in Europe/Vienna: the repeated hour 02 is one hourly bucket",
      snapshots: fallBack,
      options: { keepHourly: 3 },
      timeZone: "Europe/Vienna",
      expected: [
        [FALL_BACK[0]!, "keep-hourly"],
        [FALL_BACK[1]!, "keep-hourly"],
        [FALL_BACK[2]!, "remove"],
        [FALL_BACK[3]!, "keep-hourly"],
      ],
    },
    {
      title: "DST end in UTC: four distinct hours",
      snapshots: fallBack,
      options: { keepHourly: 3 },
      timeZone: "UTC",
      expected: [
        [FALL_BACK[0]!, "keep-hourly"],
        [FALL_BACK[1]!, "keep-hourly"],
        [FALL_BACK[2]!, "keep-hourly"],
        [FALL_BACK[3]!, "remove"],
      ],
    },
    {
      title: "DST start in Europe/Vienna: days follow local midnight",
      snapshots: springForward,
      options: { keepDaily: 2 },
      timeZone: "Europe/Vienna",
      expected: [
        [SPRING_FORWARD[0]!, "keep-daily"], // Mar 29
        [SPRING_FORWARD[1]!, "keep-daily"], // Mar 28
        [SPRING_FORWARD[2]!, "remove"], // Mar 28
        [SPRING_FORWARD[3]!, "remove"], // Mar 27, a third day
      ],
    },
    {
      title: "DST start in UTC: days follow UTC midnight",
      snapshots: springForward,
      options: { keepDaily: 2 },
      timeZone: "UTC",
      expected: [
        [SPRING_FORWARD[0]!, "keep-daily"], // Mar 28
        [SPRING_FORWARD[1]!, "remove"],
        [SPRING_FORWARD[2]!, "keep-daily"], // Mar 27
        [SPRING_FORWARD[3]!, "remove"],
      ],
    },
  ];
}

const JAN = (day: number, hour = 12) =>
  `2024-01-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00Z`;

const protectedAndIncomplete: Case[] = [
  {
    title: "protected in the middle is kept and does not use a keep-last slot",
    snapshots: [6, 5, 4, 3, 2, 1].map((day) =>
      snap(JAN(day), day === 4 ? { protected: true } : {}),
    ),
    options: { keepLast: 3 },
    timeZone: "UTC",
    expected: [
      [JAN(6), "keep-last"],
      [JAN(5), "keep-last"],
      [JAN(4), "protected"],
      [JAN(3), "keep-last"],
      [JAN(2), "remove"],
      [JAN(1), "remove"],
    ],
  },
  {
    title: "a protected snapshot does not fill its day, so an older one of that day is kept too",
    snapshots: [snap(JAN(6, 12), { protected: true }), snap(JAN(6, 8)), snap(JAN(5))],
    options: { keepDaily: 1 },
    timeZone: "UTC",
    expected: [
      [JAN(6, 12), "protected"],
      [JAN(6, 8), "keep-daily"],
      [JAN(5), "remove"],
    ],
  },
  {
    title: "protected older than where the rules stop is still kept",
    snapshots: [snap(JAN(3)), snap(JAN(2)), snap(JAN(1), { protected: true })],
    options: { keepLast: 1 },
    timeZone: "UTC",
    expected: [
      [JAN(3), "keep-last"],
      [JAN(2), "remove"],
      [JAN(1), "protected"],
    ],
  },
  {
    title: "protected wins over incomplete, newest or not",
    snapshots: [
      snap(JAN(4), { unfinished: true, protected: true }),
      snap(JAN(3)),
      snap(JAN(2), { unfinished: true, protected: true }),
      snap(JAN(1)),
    ],
    options: { keepLast: 1 },
    timeZone: "UTC",
    expected: [
      [JAN(4), "protected"],
      [JAN(3), "keep-last"],
      [JAN(2), "protected"],
      [JAN(1), "remove"],
    ],
  },
  {
    title: "the newest snapshot, when incomplete, is kept without using a slot",
    snapshots: [snap(JAN(6), { unfinished: true }), snap(JAN(5)), snap(JAN(4))],
    options: { keepLast: 1 },
    timeZone: "UTC",
    expected: [
      [JAN(6), "newest-incomplete"],
      [JAN(5), "keep-last"],
      [JAN(4), "remove"],
    ],
  },
  {
    title: "an incomplete snapshot older than a finished one is removed even within keep-last",
    snapshots: [snap(JAN(6)), snap(JAN(5), { unfinished: true }), snap(JAN(4))],
    options: { keepLast: 3 },
    timeZone: "UTC",
    expected: [
      [JAN(6), "keep-last"],
      [JAN(5), "remove"],
      [JAN(4), "keep-last"],
    ],
  },
  {
    title: "of two incomplete snapshots on top only the newest is kept",
    snapshots: [
      snap(JAN(6), { unfinished: true }),
      snap(JAN(5), { unfinished: true }),
      snap(JAN(4)),
    ],
    options: { keepLast: 1 },
    timeZone: "UTC",
    expected: [
      [JAN(6), "newest-incomplete"],
      [JAN(5), "remove"],
      [JAN(4), "keep-last"],
    ],
  },
  {
    title: "all incomplete: only the newest is kept",
    snapshots: [snap(JAN(2), { unfinished: true }), snap(JAN(1), { unfinished: true })],
    options: { keepDaily: 5 },
    timeZone: "UTC",
    expected: [
      [JAN(2), "newest-incomplete"],
      [JAN(1), "remove"],
    ],
  },
  {
    title: "a kept incomplete snapshot does not fill its day",
    snapshots: [snap(JAN(6, 18), { unfinished: true }), snap(JAN(6, 10)), snap(JAN(5))],
    options: { keepDaily: 1 },
    timeZone: "UTC",
    expected: [
      [JAN(6, 18), "newest-incomplete"],
      [JAN(6, 10), "keep-daily"],
      [JAN(5), "remove"],
    ],
  },
  {
    title: "no options: everything is kept, incomplete ones too",
    snapshots: [
      snap(JAN(3)),
      snap(JAN(2), { unfinished: true }),
      snap(JAN(1), { protected: true }),
    ],
    options: {},
    timeZone: "UTC",
    expected: [
      [JAN(3), "keep-all (no options)"],
      [JAN(2), "keep-all (no options)"],
      [JAN(1), "protected"],
    ],
  },
  {
    title: "options that are all 0 count as no options",
    snapshots: [snap(JAN(3)), snap(JAN(2), { unfinished: true }), snap(JAN(1))],
    options: { keepLast: 0, keepDaily: 0, keepYearly: 0 },
    timeZone: "UTC",
    expected: [
      [JAN(3), "keep-all (no options)"],
      [JAN(2), "keep-all (no options)"],
      [JAN(1), "keep-all (no options)"],
    ],
  },
];

for (const c of [...pbsExamples, ...calendarEdges, ...protectedAndIncomplete]) {
  test(c.title, (t) => {
    t.deepEqual(outcome(c.snapshots, c.options, c.timeZone), c.expected);
  });
}

test("input order does not matter; decisions come newest first", (t) => {
  const shuffled = [FOUR[2]!, FOUR[0]!, FOUR[3]!, FOUR[1]!];
  t.deepEqual(outcome(shuffled, { keepDaily: 2 }, "UTC"), [
    [DEC_04_LATE, "keep-daily"],
    [DEC_04, "remove"],
    [DEC_03, "keep-daily"],
    [DEC_02, "remove"],
  ]);
  t.deepEqual(pruneSelect([], { keepLast: 1 }), []);
});

test("the decision carries the caller's own snapshot object", (t) => {
  const [decision] = pruneSelect([FOUR[0]!], { keepLast: 1 });
  t.is(decision!.snapshot, FOUR[0]!);
  t.true(decision!.keep);
});

test("without a time zone the process's local zone (TZ) is used", (t) => {
  const snapshots = FALL_BACK.map((iso) => snap(iso));
  const local = outcome(snapshots, { keepHourly: 3 });
  t.deepEqual(local, outcome(snapshots, { keepHourly: 3 }, "Europe/Vienna"));
  t.notDeepEqual(local, outcome(snapshots, { keepHourly: 3 }, "UTC"));
});

/**
 * 90 days: a backup at 12:00 UTC each day of 2024-01-01..02-29 (60), then one every hour of
 * 2024-03-01..03-30 (720), plus six leftovers from earlier years. ISO weeks of 2024 start on
 * Mondays Jan 1, …, Feb 19 (W08), Feb 26 (W09), Mar 4 (W10), Mar 11 (W11), Mar 18 (W12), Mar 25 (W13).
 */
function ninetyDays(): Snapshot[] {
  const snapshots: Snapshot[] = [];
  for (const iso of ["2020-02-01", "2021-03-01", "2022-01-15", "2022-05-01", "2023-07-01"]) {
    snapshots.push(snap(noon(iso)));
  }
  snapshots.push(snap(noon("2023-12-31")));
  for (let day = Date.UTC(2024, 0, 1); day <= Date.UTC(2024, 1, 29); day += 86_400_000) {
    snapshots.push(snap(noon(new Date(day).toISOString().slice(0, 10))));
  }
  for (let day = 1; day <= 30; day++) {
    for (let hour = 0; hour < 24; hour++) snapshots.push(snap(march(day, hour)));
  }
  return snapshots;
}

function march(day: number, hour: number): string {
  return `2024-03-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00Z`;
}

test("all options combined on a 90-day daily + hourly history", (t) => {
  const history = ninetyDays();
  t.is(history.length, 786);
  const options = {
    keepLast: 3,
    keepHourly: 24,
    keepDaily: 7,
    keepWeekly: 4,
    keepMonthly: 3,
    keepYearly: 2,
  };
  const decisions = pruneSelect(history, options, { timeZone: "UTC" });
  const kept = decisions
    .filter((decision) => decision.keep)
    .map((decision) => [decision.snapshot.name, decision.reason]);
  const hourly = [20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
  t.deepEqual(kept, [
    // keep-last: the three newest.
    [march(30, 23), "keep-last"],
    [march(30, 22), "keep-last"],
    [march(30, 21), "keep-last"],
    // keep-hourly: 21 more hours of Mar 30 and three of Mar 29.
    ...hourly.map((hour) => [march(30, hour), "keep-hourly"]),
    [march(29, 23), "keep-hourly"],
    [march(29, 22), "keep-hourly"],
    [march(29, 21), "keep-hourly"],
    // keep-daily: Mar 29 and 30 are covered, so the last hour of Mar 28 back to Mar 22.
    ...[28, 27, 26, 25, 24, 23, 22].map((day) => [march(day, 23), "keep-daily"]),
    // keep-weekly: W13 and W12 are covered (Mar 22..30), so the Sundays ending W11..W08.
    [march(17, 23), "keep-weekly"],
    [march(10, 23), "keep-weekly"],
    [march(3, 23), "keep-weekly"],
    [noon("2024-02-25"), "keep-weekly"],
    // keep-monthly: March and February are covered, so January and two 2023 months.
    [noon("2024-01-31"), "keep-monthly"],
    [noon("2023-12-31"), "keep-monthly"],
    [noon("2023-07-01"), "keep-monthly"],
    // keep-yearly: 2024 and 2023 are covered, so 2022 and 2021; 2020 is a third year.
    [noon("2022-05-01"), "keep-yearly"],
    [noon("2021-03-01"), "keep-yearly"],
  ]);
  t.is(kept.length, 43);
  t.is(decisions.filter((decision) => decision.reason === "remove").length, 786 - 43);
});

test("two snapshots with the same backup time are refused", (t) => {
  const error = t.throws(() => pruneSelect([snap(DEC_02), snap(DEC_02)], { keepLast: 1 }), {
    code: "CAIRN_E_DATASTORE_BAD_PRUNE_INPUT",
  }) as DatastoreError;
  t.is(error.context["value"], DEC_02);
});

test("a snapshot with an impossible backup time is refused", (t) => {
  for (const backupTime of [0, -5, 1.5, Number.NaN]) {
    t.throws(
      () => pruneSelect([{ backupTime, finished: true, protected: false }], { keepLast: 1 }),
      { code: "CAIRN_E_DATASTORE_BAD_TIME" },
    );
  }
});

test("an unknown time zone is refused", (t) => {
  const error = t.throws(() => pruneSelect(FOUR, { keepLast: 1 }, { timeZone: "Mars/Olympus" }), {
    code: "CAIRN_E_DATASTORE_BAD_PRUNE_OPTIONS",
  }) as DatastoreError;
  t.is(error.context["field"], "timeZone");
});

test("prune options: whole numbers ≥ 0 under known keys pass through", (t) => {
  t.deepEqual(validatePruneOptions({}), {});
  t.deepEqual(validatePruneOptions({ keepLast: 0, keepDaily: 7, keepWeekly: undefined }), {
    keepLast: 0,
    keepDaily: 7,
  });
  t.deepEqual(validatePruneOptions({ keepYearly: 2 ** 53 - 1 }), { keepYearly: 2 ** 53 - 1 });
});

test("prune options: anything else is refused, naming the option", (t) => {
  const cases: [unknown, string][] = [
    [null, "prune options"],
    [[], "prune options"],
    ["keep-last=3", "prune options"],
    [{ keepLast: -1 }, "keep-last"],
    [{ keepHourly: 1.5 }, "keep-hourly"],
    [{ keepDaily: "3" }, "keep-daily"],
    [{ keepWeekly: Number.NaN }, "keep-weekly"],
    [{ keepMonthly: Number.POSITIVE_INFINITY }, "keep-monthly"],
    [{ keepYearly: 2 ** 53 }, "keep-yearly"],
    [{ keepDialy: 3 }, "prune option"],
    [{ "keep-last": 3 }, "prune option"],
  ];
  for (const [value, field] of cases) {
    const error = t.throws(() => validatePruneOptions(value), {
      code: "CAIRN_E_DATASTORE_BAD_PRUNE_OPTIONS",
    }) as DatastoreError;
    t.is(error.context["field"], field);
    t.is(error.httpStatus, 400);
  }
  t.throws(() => pruneSelect(FOUR, { keepLast: -1 }), {
    code: "CAIRN_E_DATASTORE_BAD_PRUNE_OPTIONS",
  });
});
