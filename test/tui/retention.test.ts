import test from "ava";
import { frameOf, KEY, press, renderScreen, typeInto } from "./fixtures.js";

const NOW = Date.UTC(2025, 5, 15, 12, 0, 0) / 1000;
const props = { now: NOW, timeZone: "UTC" };

test("defaults and the preview of 90 days of daily and hourly backups", (t) => {
  const frame = frameOf(renderScreen("retention", (s) => s, props));
  t.regex(frame, /keep-last\s+3/);
  t.regex(frame, /keep-daily\s+7/);
  t.regex(frame, /gc-schedule\s+daily/);
  // Daily backups fill the hourly rule too: every one is in an hour of its own.
  t.regex(frame, /daily backups : keeps 39 of 90, oldest 76 days old/);
  t.regex(frame, /last 3, hourly 24, daily 7, weekly 4, monthly 1\n/);
  t.regex(frame, /hourly backups: keeps 40 of 2160, oldest 76 days old/);
  t.regex(frame, /last 3, hourly 24, daily 7, weekly 4, monthly 2\n/);
});

test("the preview follows the rules as they are typed", async (t) => {
  const app = renderScreen("retention", (s) => s, props);
  await press(app, KEY.down, KEY.down); // keep-daily
  await typeInto(app, "30");
  t.regex(frameOf(app), /daily backups : keeps 61 of 90/);
});

test("a non-number keeps the operator here and hides the preview", async (t) => {
  const app = renderScreen("retention", (s) => s, props);
  await typeInto(app, "three");
  t.regex(frameOf(app), /fix the values above/);
  await press(app, KEY.enter);
  t.regex(frameOf(app), /! must be a whole number/);
  t.regex(frameOf(app), /Cairn setup: Retention/);
});
