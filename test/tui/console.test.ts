import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { render } from "ink-testing-library";
import { createElement as h } from "react";
import { AccessControl } from "../../appliance/server/auth/access-control.js";
import { createUser } from "../../appliance/server/auth/accounts.js";
import { verifySecret } from "../../appliance/server/auth/password-hash.js";
import { consoleActions } from "../../appliance/setup/console-actions.js";
import type { ConsoleStatus } from "../../appliance/setup/console-status.js";
import { Console } from "../../tui/screens/console.js";
import { fixture, RecordingRunner, scratchDir } from "../system/helpers.js";
import { frameOf, KEY, press, settle, typeInto } from "./fixtures.js";

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0")).join(":");
const CHEAP = { log2N: 10, r: 8, p: 1 };

const IP_ADDR = JSON.stringify([
  {
    ifname: "eth0",
    ifindex: 2,
    operstate: "UP",
    flags: ["UP"],
    address: "52:54:00:12:34:56",
    addr_info: [{ family: "inet", local: "192.0.2.10", prefixlen: 24, scope: "global" }],
  },
]);

function dashboardStatus(): ConsoleStatus {
  return {
    url: "https://backup:8007",
    fingerprint: FINGERPRINT,
    service: "active",
    pools: [{ name: "tank", size: 4e12, alloc: 1e12, free: 3e12, health: "DEGRADED", exact: true }],
    datastores: [
      {
        name: "store1",
        path: "/mnt/datastore/tank/store1",
        usedBytes: 2 ** 40,
        totalBytes: 2 ** 42,
      },
      { name: "old", path: "/mnt/old" },
    ],
    tasks: {
      lastBackup: { type: "backup", id: "store1:host/web1", time: 1_795_852_800, status: "OK" },
      lastGc: { type: "garbage_collection", id: "store1", time: 1_795_766_400, status: "OK" },
      running: [{ type: "verify", id: "store1", time: 1_795_856_400 }],
    },
  };
}

/** The console on a machine whose commands are recorded, not run; the config dir is real. */
function consoleOn(t: ExecutionContext, status: () => ConsoleStatus = dashboardStatus) {
  const dir = scratchDir(t, "cairn-console-");
  const runner = new RecordingRunner((command, args) => {
    if (command === "ip" && args.includes("addr") && args.includes("show"))
      return { stdout: IP_ADDR };
    if (command === "lsblk") return { stdout: '{"blockdevices":[]}' };
    if (command === "zpool" && args[0] === "status")
      return { stdout: fixture("zfs-fuse-status-degraded.txt") };
    return {};
  });
  const configDir = join(dir, "etc-cairn");
  mkdirSync(configDir);
  const root = join(dir, "root");
  const actions = consoleActions(runner, { root, configDir, passwordCost: CHEAP });
  let loads = 0;
  const app = render(
    h(Console, {
      load: async () => {
        loads++;
        return status();
      },
      actions,
      refreshMs: 200,
    }),
  );
  t.teardown(() => app.unmount());
  return { app, runner, root, configDir, loads: () => loads };
}

/** Waits until the frame matches (an action's result, or a lone Esc Ink holds a moment). */
async function until(
  app: Parameters<typeof frameOf>[0] & Parameters<typeof settle>[0],
  re: RegExp,
) {
  for (let i = 0; i < 50 && !re.test(frameOf(app)); i++) await settle(app);
}

const lines = (runner: RecordingRunner) => runner.calls.map((call) => call.join(" "));

test("the dashboard shows URL, service, fingerprint, pools, datastores, tasks and the menu", async (t) => {
  const { app } = consoleOn(t);
  await settle(app);
  const frame = frameOf(app);
  t.regex(frame, /Web interface\s+https:\/\/backup:8007\s+service active/);
  t.regex(frame, /Fingerprint\s+00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f\n/);
  t.regex(frame, /\s+10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f\n/);
  t.regex(frame, /Pools\s+tank\s+DEGRADED\s+931 GiB of 3\.64 TiB used/);
  t.regex(frame, /Datastores\s+store1\s+1\.00 TiB of 4\.00 TiB used/);
  t.regex(frame, /old\s+\/mnt\/old \(not mounted\)/);
  t.regex(frame, /Last backup\s+2026-11-28 08:00 UTC\s+OK\s+store1:host\/web1/);
  t.regex(frame, /Last GC\s+2026-11-27 08:00 UTC\s+OK/);
  t.regex(frame, /Running tasks\s+verify store1/);
  t.regex(
    frame,
    /> 1 Change network\n\s+2 Reset admin password\n\s+3 Show certificate fingerprint/,
  );
  t.regex(frame, /4 Pool status\n\s+5 Reboot\n\s+6 Shut down/);
});

test("the dashboard refreshes by itself", async (t) => {
  let service = "activating";
  const { app, loads } = consoleOn(t, () => ({ ...dashboardStatus(), service }));
  await settle(app);
  t.regex(frameOf(app), /service activating/);
  service = "failed";
  const before = loads();
  await until(app, /service failed/);
  t.regex(frameOf(app), /service failed/);
  t.true(loads() > before);
});

test("change network: the form is pre-filled; a bad gateway is refused; Enter applies it", async (t) => {
  const { app, runner, root } = consoleOn(t);
  await press(app, KEY.down, KEY.enter);
  t.regex(frameOf(app), /Reset admin password/, "Down and Enter open the second entry");
  await until(app, /Again/);
  await press(app, KEY.escape);
  await until(app, /Cairn setup: Console/);
  await press(app, KEY.up, KEY.enter);
  await until(app, /Address\/CIDR/);
  t.regex(frameOf(app), /Cairn setup: Network\s+console/);
  t.regex(frameOf(app), /Method\s+< dhcp >/);
  await press(app, KEY.down, KEY.right, KEY.down);
  await typeInto(app, "192.0.2.20/24");
  await press(app, KEY.down);
  await typeInto(app, "198.51.100.1");
  await press(app, KEY.enter);
  t.regex(frameOf(app), /outside the subnet of 192\.0\.2\.20\/24/);
  t.false(lines(runner).some((line) => line.startsWith("ip addr add")));
  await typeInto(app, "192.0.2.1");
  await press(app, KEY.enter);
  await until(app, /network applied/);
  t.regex(frameOf(app), /Cairn setup: Console[\s\S]*network applied: eth0 192\.0\.2\.20\/24 via/);
  t.true(lines(runner).includes("ip addr add 192.0.2.20/24 dev eth0"));
  t.true(lines(runner).includes("ip -4 route replace default via 192.0.2.1 dev eth0"));
  t.regex(
    readFileSync(join(root, "etc/network/interfaces"), "utf8"),
    /iface eth0 inet static\n\taddress 192\.0\.2\.20\/24\n\tgateway 192\.0\.2\.1/,
  );
});

test("reset admin password: mismatches are refused, then the new password is stored", async (t) => {
  const { app, configDir } = consoleOn(t);
  const access = await AccessControl.open(configDir);
  await createUser(access.config, "admin@pbs", {}, "old-password-1", CHEAP);
  await press(app, "2");
  await until(app, /Again/);
  t.regex(frameOf(app), /User\s+admin@pbs/);
  t.notRegex(frameOf(app), /E-mail/);
  await press(app, KEY.down);
  await typeInto(app, "new-password-2");
  await press(app, KEY.down);
  await typeInto(app, "new-password-3");
  await press(app, KEY.down, KEY.down, KEY.enter);
  t.regex(frameOf(app), /! the two passwords differ/);
  await typeInto(app, "new-password-2");
  await press(app, KEY.enter);
  await until(app, /password of/);
  t.regex(frameOf(app), /password of admin@pbs changed/);
  const hash = (await access.config.passwords.read()).get("admin@pbs");
  t.true(hash !== undefined && (await verifySecret("new-password-2", hash)));
  t.false(hash !== undefined && (await verifySecret("old-password-1", hash)));
});

test("reset password of a user that does not exist says so and changes nothing", async (t) => {
  const { app, configDir } = consoleOn(t);
  await press(app, "2");
  await until(app, /Again/);
  await typeInto(app, "nobody@pbs");
  await press(app, KEY.down);
  await typeInto(app, "new-password-2");
  await press(app, KEY.down);
  await typeInto(app, "new-password-2");
  await press(app, KEY.enter);
  await until(app, /does not exist/);
  t.regex(frameOf(app), /Reset admin password[\s\S]*nobody@pbs does not exist/);
  const access = await AccessControl.open(configDir);
  t.false((await access.config.users.read()).users.has("nobody@pbs"));
});

test("show fingerprint shows the whole fingerprint and the URL; Esc goes back", async (t) => {
  const { app } = consoleOn(t);
  await press(app, "3");
  const frame = frameOf(app);
  t.regex(frame, /Cairn setup: Certificate fingerprint/);
  t.regex(frame, /https:\/\/backup:8007/);
  t.regex(frame, / 00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f\n 10:11:12/);
  await press(app, KEY.escape);
  await until(app, /Cairn setup: Console/);
  t.regex(frameOf(app), /Cairn setup: Console/);
});

test("pool status shows each device's state from zpool status", async (t) => {
  const { app, runner } = consoleOn(t);
  await press(app, "4");
  await until(app, /raidz2-0/);
  const frame = frameOf(app);
  t.regex(frame, /sample: DEGRADED, none requested/);
  t.regex(frame, /\n {4}\/srv\/vd\/g2\s+OFFLINE\s+0 0 0/);
  t.regex(frame, /\n {2}mirror-1\s+ONLINE/);
  t.true(lines(runner).includes("zpool status -v"));
  await press(app, "r");
  const asked = () => lines(runner).filter((line) => line === "zpool status -v").length;
  for (let i = 0; i < 50 && asked() < 2; i++) await settle(app);
  t.is(asked(), 2);
  await until(app, /raidz2-0/);
  await press(app, KEY.escape);
  await until(app, /Cairn setup: Console/);
  t.regex(frameOf(app), /Cairn setup: Console/);
});

for (const [key, view, command] of [
  ["5", "Reboot the appliance now\\?", "reboot"],
  ["6", "Shut the appliance down now\\?", "poweroff"],
] as const) {
  test(`${command} asks first; only y runs systemctl ${command}`, async (t) => {
    const { app, runner } = consoleOn(t);
    await press(app, key);
    await until(app, new RegExp(view));
    t.regex(frameOf(app), new RegExp(`${view} \\(y/N\\)`));
    await press(app, "n");
    await until(app, /Cairn setup: Console/);
    t.regex(frameOf(app), /Cairn setup: Console/);
    t.false(runner.calls.some((call) => call[0] === "systemctl"));
    await press(app, key, "y");
    await until(app, /requested/);
    t.deepEqual(
      runner.calls.filter((call) => call[0] === "systemctl"),
      [["systemctl", command]],
    );
    t.regex(frameOf(app), /(reboot|shutdown) requested/);
  });
}

test("q leaves the console", async (t) => {
  const { app } = consoleOn(t);
  await press(app, "q");
  // Ink stops reading the keyboard once the app has exited.
  for (let i = 0; i < 50 && app.stdin.listenerCount("readable") > 0; i++) await settle(app);
  t.is(app.stdin.listenerCount("readable"), 0);
});
