import test from "ava";
import { render } from "ink-testing-library";
import { createElement as h } from "react";
import type { InstallEvent } from "../../appliance/setup/install/install-engine.js";
import type { InstallPlan } from "../../appliance/setup/install/install-plan.js";
import { Installer } from "../../tui/screens/install-app.js";
import { fakeEnvironment, frameOf, KEY, press, typeInto } from "./fixtures.js";

const GiB = 1024 ** 3;

/** The fake server's disks plus a 4 GiB stick; the system SSD stands for the live medium. */
function installer(
  run: (plan: InstallPlan) => AsyncIterable<InstallEvent> = async function* () {},
) {
  const env = fakeEnvironment();
  const small = {
    ...env.disks[1]!,
    path: "/dev/sdf",
    name: "sdf",
    size: 4 * GiB,
    model: "USB stick",
  };
  const disks = [...env.disks, small];
  return render(
    h(Installer, {
      disks,
      interfaces: env.interfaces,
      facts: { disks, interfaces: env.interfaces.map((iface) => iface.name) },
      run,
    }),
  );
}

test("no disk chosen: the disk screen refuses to go on", async (t) => {
  const app = installer();
  await press(app, KEY.enter);
  t.regex(frameOf(app), /Cairn install: System disk/);
  t.regex(frameOf(app), /! choose the disk to install on/);
  t.regex(frameOf(app), /\/dev\/sda\s+224 GiB\s+Samsung SSD 860\s+SSD\s+sata\s+live system/);
});

test("a disk too small is refused with its size and the minimum", async (t) => {
  const app = installer();
  await press(app, KEY.down, KEY.down, KEY.down, KEY.down, KEY.space); // sdb, sdc, sdd, sde, sdf
  t.regex(frameOf(app), /\(\*\) \/dev\/sdf/);
  await press(app, KEY.enter);
  t.regex(frameOf(app), /! \/dev\/sdf is too small \(4\.0 GiB; at least 8\.0 GiB needed\)/);
  t.regex(frameOf(app), /Cairn install: System disk/);
});

async function toRootScreen(app: ReturnType<typeof installer>) {
  await press(app, KEY.space, KEY.enter); // sdb
  assertScreen(app, /Cairn install: Time zone and keyboard/);
  await press(app, KEY.enter);
}

function assertScreen(app: ReturnType<typeof installer>, title: RegExp) {
  if (!title.test(frameOf(app))) throw new Error(`expected ${title}, got:\n${frameOf(app)}`);
}

test("mismatched root passwords keep the operator on the password screen", async (t) => {
  const app = installer();
  await toRootScreen(app);
  t.regex(frameOf(app), /Cairn install: Root password and e-mail/);
  await typeInto(app, "first-pass-1");
  await press(app, KEY.down);
  await typeInto(app, "other-pass-2");
  await press(app, KEY.down);
  await typeInto(app, "ops@example.com");
  await press(app, KEY.enter);
  t.regex(frameOf(app), /! the two passwords differ/);
  t.regex(frameOf(app), /Root password\s+\*{12}/);
  t.notRegex(frameOf(app), /first-pass-1/);
  t.regex(frameOf(app), /Cairn install: Root password and e-mail/);
});

test("all screens filled: the summary shows the plan and Enter runs it with that plan", async (t) => {
  const plans: InstallPlan[] = [];
  const app = installer(async function* (plan) {
    plans.push(plan);
    yield { type: "step-start", step: "partition", label: "Partitions" };
    yield { type: "step-failed", step: "partition", error: new Error("sgdisk failed (exit 4)") };
  });
  await toRootScreen(app);
  await typeInto(app, "root-pass-1");
  await press(app, KEY.down);
  await typeInto(app, "root-pass-1");
  await press(app, KEY.down);
  await typeInto(app, "ops@example.com");
  await press(app, KEY.enter);
  t.regex(frameOf(app), /Cairn install: Management network/);
  await press(app, KEY.down, KEY.down, KEY.down, KEY.down, KEY.down);
  await typeInto(app, "backup.example.com");
  await press(app, KEY.enter);
  t.regex(frameOf(app), /System disk\s+\/dev\/sdb, ext4/);
  t.regex(frameOf(app), /ALL DATA ON \/dev\/sdb WILL BE ERASED/);
  await press(app, KEY.enter);
  t.is(plans[0]?.disk, "/dev/sdb");
  t.is(plans[0]?.rootPassword, "root-pass-1");
  t.is(plans[0]?.network.fqdn, "backup.example.com");
  t.regex(frameOf(app), /partition failed:/);
  t.regex(frameOf(app), /sgdisk failed \(exit 4\)/);
});
