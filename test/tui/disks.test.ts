import test from "ava";
import { frameOf, KEY, press, renderScreen, typeInto } from "./fixtures.js";

test("lists disks with size, model, type, bus and use; the system disk is locked", (t) => {
  const frame = frameOf(renderScreen("disks"));
  t.regex(frame, / - {2}\/dev\/sda\s+224 GiB\s+Samsung SSD 860\s+SSD\s+sata\s+system disk/);
  t.regex(frame, /\[ \] \/dev\/sdb\s+3\.64 TiB\s+WDC WD40EFRX\s+HDD\s+sata\s+unused/);
  t.regex(frame, /\/dev\/sdd .*partitions/);
});

test("the cursor skips the system disk and Space selects", async (t) => {
  const app = renderScreen("disks");
  await press(app, KEY.up, KEY.space);
  t.regex(frameOf(app), /\[x\] \/dev\/sdb/);
  t.notRegex(frameOf(app), /\[x\] \/dev\/sda/);
});

test("usable capacity follows the raid level; too few disks for raidz2 are explained", async (t) => {
  const app = renderScreen("disks");
  await press(app, KEY.space, KEY.down, KEY.space);
  t.regex(frameOf(app), /2 selected, usable 3\.64 TiB, survives 1 failed disk/);
  await press(app, KEY.down, KEY.down, KEY.down); // raid level row
  await press(app, KEY.right, KEY.right, KEY.right); // mirror → raid10 → raidz → raidz2
  t.regex(frameOf(app), /Raid level\s+< raidz2 >/);
  t.regex(frameOf(app), /not usable: raidz2 needs 4 or more devices/);
  await press(app, KEY.enter);
  t.regex(frameOf(app), /Cairn setup: Datastore disks/);
});

test("four disks in raidz2: half usable, two may fail; disks with data need a wipe confirmation", async (t) => {
  const app = renderScreen("disks", (state) => ({
    ...state,
    draft: { ...state.draft, disks: { ...state.draft.disks, raidlevel: "raidz2" } },
  }));
  await press(app, KEY.space, KEY.down, KEY.space, KEY.down, KEY.space, KEY.down, KEY.space);
  t.regex(frameOf(app), /4 selected, usable 7\.28 TiB, survives 2 failed disk/);
  await press(app, KEY.enter);
  t.regex(frameOf(app), /hold data and will be WIPED: \/dev\/sdd/);
  t.notRegex(frameOf(app), /WIPED: .*\/dev\/sdb/);
  await press(app, "n");
  t.notRegex(frameOf(app), /WIPED/);
  t.regex(frameOf(app), /Cairn setup: Datastore disks/);
  await press(app, KEY.enter, "y");
  t.regex(frameOf(app), /Cairn setup: Retention/);
});

test("a bad pool name is refused with the rule", async (t) => {
  const app = renderScreen("disks");
  await press(app, KEY.space, KEY.down, KEY.space);
  await press(app, KEY.down, KEY.down, KEY.down, KEY.down, KEY.down, KEY.down);
  await typeInto(app, "mirror");
  await press(app, KEY.enter);
  t.regex(frameOf(app), /reserved by zpool/);
});
