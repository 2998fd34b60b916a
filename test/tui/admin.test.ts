import test from "ava";
import { frameOf, KEY, press, renderScreen, typeInto } from "./fixtures.js";

test("passwords are masked and must match", async (t) => {
  const app = renderScreen("admin");
  await press(app, KEY.down);
  await typeInto(app, "correct horse 42");
  await press(app, KEY.down);
  await typeInto(app, "correct horse 43");
  t.regex(frameOf(app), /Password\s+\*{16}/);
  t.notRegex(frameOf(app), /correct horse/);
  await press(app, KEY.enter);
  t.regex(frameOf(app), /! the two passwords differ/);
  t.regex(frameOf(app), /Cairn setup: Admin account/);
});

test("the strength hint grows with the password; a short one is refused", async (t) => {
  const app = renderScreen("admin");
  await press(app, KEY.down);
  await typeInto(app, "abc");
  t.regex(frameOf(app), /Strength: weak/);
  await press(app, KEY.down);
  await typeInto(app, "abc");
  await press(app, KEY.enter);
  t.regex(frameOf(app), /! must be at least 8 characters/);
  await press(app, KEY.up);
  await typeInto(app, "Correct-Horse-Battery-9");
  t.regex(frameOf(app), /Strength: strong/);
});

test("matching valid passwords lead to the summary with every choice", async (t) => {
  const app = renderScreen("admin", (state) => ({
    ...state,
    draft: {
      ...state.draft,
      disks: { ...state.draft.disks, selected: ["/dev/sdb", "/dev/sdc"] },
    },
  }));
  await press(app, KEY.down);
  await typeInto(app, "s3cret-pass");
  await press(app, KEY.down);
  await typeInto(app, "s3cret-pass");
  await press(app, KEY.down);
  await typeInto(app, "ops@example.com");
  await press(app, KEY.enter);
  const frame = frameOf(app);
  t.regex(frame, /Cairn setup: Summary/);
  t.regex(frame, /eth0, 192\.0\.2\.10\/24 via 192\.0\.2\.1/);
  t.regex(frame, /tank: mirror, 3\.64 TiB usable/);
  t.regex(frame, /admin@pbs <ops@example\.com>/);
  t.notRegex(frame, /s3cret/);
});
