import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { readCertificateInfo } from "../../appliance/server/tls/certificate-files.js";
import { api } from "../server/helpers/client.js";
import {
  type ApplianceMachine,
  applianceMachine,
  NIC,
  nicAddresses,
  poolLayout,
  ROUTER,
  realPartsHere,
  setupOutcome,
  startServer,
} from "./appliance-machine.js";
import { KEY } from "./fixtures.js";
import { lastFrame, startSetup } from "./pty.js";

const real = realPartsHere ? test.serial : test.skip;

/** The answers typed on the screens, and written to the answer file. */
const ANSWERS = {
  address: "192.0.2.10/24",
  dns: "192.0.2.53",
  fqdn: "backup.example.com",
  datastore: "store1",
  keep: { last: "5", hourly: "0", daily: "10", weekly: "6", monthly: "12", yearly: "2" },
  verify: "sun 04:00",
  user: "ops@pbs",
  password: "s3cret-pass-42",
  email: "ops@example.com",
};

function answerFile(machine: ApplianceMachine): string {
  const keep = Object.entries(ANSWERS.keep)
    .map(([name, value]) => `keep-${name} = ${value}`)
    .join("\n");
  return `
[network]
interface = "${NIC}"
method = "static"
address = "${ANSWERS.address}"
gateway = "${ROUTER}"
dns = ["${ANSWERS.dns}"]
fqdn = "${ANSWERS.fqdn}"

[disks]
devices = ${JSON.stringify(machine.devices)}
raidlevel = "mirror"
pool = "${machine.pool}"
datastore = "${ANSWERS.datastore}"

[retention]
${keep}
verify-schedule = "${ANSWERS.verify}"

[admin]
user = "${ANSWERS.user}"
password = "${ANSWERS.password}"
email = "${ANSWERS.email}"
`;
}

/** The choosable rows of the disks table, in order, as the screen lists them. */
function offeredDisks(frame: string): string[] {
  return [...frame.matchAll(/^..\[[ x]\] (\S+)/gm)].map((match) => match[1]!);
}

/** The interactive run's outcome, for the answer-file test to compare with. */
let interactiveOutcome: Awaited<ReturnType<typeof setupOutcome>> | undefined;

async function typeAnswers(t: ExecutionContext, machine: ApplianceMachine) {
  const setup = startSetup(["firstboot", ...machine.args], machine.env);
  t.teardown(() => setup.kill());
  await setup.waitFor(new RegExp(`Cairn setup: Welcome[\\s\\S]*${NIC}\\s+link`), 60_000);
  await setup.keys(KEY.enter);
  await setup.waitFor(/Cairn setup: Network/);
  // The NIC has no address yet: switch to static and fill in every field.
  await setup.keys(KEY.down, KEY.right, KEY.down, KEY.clear, ANSWERS.address);
  await setup.keys(KEY.down, KEY.clear, ROUTER, KEY.down, KEY.clear, ANSWERS.dns);
  await setup.keys(KEY.down, KEY.clear, ANSWERS.fqdn);
  setup.mark();
  await setup.keys(KEY.enter);
  await setup.waitFor(/Cairn setup: Datastore disks[\s\S]*Datastore/);
  const offered = offeredDisks(lastFrame(setup.text, /Datastore disks/));
  t.true(
    offered.every((path) => /^\/dev\/loop\d+$/.test(path)),
    `only loop devices are offered, never the system disk: ${offered}`,
  );
  let focus = 0;
  for (const device of machine.devices) {
    const row = offered.indexOf(device);
    t.true(row >= 0, `${device} is offered`);
    await setup.keys(...Array<string>(row - focus).fill(KEY.down), KEY.space);
    focus = row;
  }
  await setup.waitFor(/2 selected, usable/);
  // Raid level (mirror already), ashift, compression, then the pool name.
  await setup.keys(...Array<string>(offered.length + 3 - focus).fill(KEY.down));
  await setup.keys(KEY.clear, machine.pool, KEY.down, KEY.clear, ANSWERS.datastore);
  await setup.keys(KEY.enter);
  await setup.waitFor(/Cairn setup: Retention/);
  for (const value of Object.values(ANSWERS.keep)) await setup.keys(KEY.clear, value, KEY.down);
  await setup.keys(KEY.down, KEY.down, KEY.clear, ANSWERS.verify, KEY.enter);
  await setup.waitFor(/Cairn setup: Admin account/);
  await setup.keys(KEY.clear, ANSWERS.user, KEY.down, ANSWERS.password, KEY.down);
  await setup.keys(ANSWERS.password, KEY.down, ANSWERS.email);
  setup.mark();
  await setup.keys(KEY.enter);
  await setup.waitFor(/Cairn setup: Summary[\s\S]*daily 10, weekly 6, monthly 12, yearly 2/);
  t.regex(setup.text, new RegExp(`${machine.pool}: mirror`));
  setup.mark();
  await setup.keys(KEY.enter);
  await setup.waitFor(/Cairn setup: Done[\s\S]*cairn backup root\.pxar/, 120_000);
  const done = setup.text;
  await setup.keys(KEY.enter);
  t.is(await setup.exited(), 0);
  return done;
}

real(
  "firstboot typed in a pseudo-terminal sets up the pool, datastore, jobs, network and admin for real",
  async (t) => {
    t.timeout(300_000);
    const machine = applianceMachine(t);
    const done = await typeAnswers(t, machine);

    t.deepEqual(poolLayout(machine.pool), [
      { vdev: "mirror-0", devices: machine.devices.map((device) => device.replace("/dev/", "")) },
    ]);
    const stores = JSON.parse(readFileSync(join(machine.configDir, "datastore.json"), "utf8"));
    t.like(stores.datastore[ANSWERS.datastore], {
      path: join(machine.mountRoot, machine.pool, ANSWERS.datastore),
      "keep-last": 5,
      "keep-daily": 10,
      "keep-weekly": 6,
      "keep-monthly": 12,
      "keep-yearly": 2,
      "gc-schedule": "daily",
      "prune-schedule": "hourly",
    });
    t.false("keep-hourly" in stores.datastore[ANSWERS.datastore], "0 means the rule is unused");
    const verify = JSON.parse(readFileSync(join(machine.configDir, "verify.json"), "utf8"));
    t.like(verify.verify[`v-${ANSWERS.datastore}`], { schedule: ANSWERS.verify });
    t.deepEqual(nicAddresses(machine), [ANSWERS.address]);
    const routes = execFileSync("ip", ["-n", machine.netns, "route", "show", "default"], {
      encoding: "utf8",
    });
    t.regex(routes, new RegExp(`default via ${ROUTER.replaceAll(".", "\\.")} dev ${NIC}`));
    t.is(readFileSync(machine.systemctlLog, "utf8"), "restart cairn-server.service\n");

    // The restarted service: the admin logs in with the typed password, and only with it.
    const server = await startServer(machine);
    const login = await api(server.port, "POST", "/api2/json/access/ticket", {
      body: { username: ANSWERS.user, password: ANSWERS.password },
    });
    t.is(login.status, 200, login.body.toString());
    t.is(login.json.data.username, ANSWERS.user);
    const wrong = await api(server.port, "POST", "/api2/json/access/ticket", {
      body: { username: ANSWERS.user, password: "not-the-password" },
    });
    t.is(wrong.status, 401);

    // The Done screen shows the fingerprint of the certificate the server presents.
    const { fingerprint } = await readCertificateInfo(machine.configDir);
    t.is(login.fingerprint, fingerprint);
    t.true(done.includes(fingerprint.slice(0, 47)), done);
    t.true(done.includes(fingerprint.slice(48)), done);
    t.regex(done, /https:\/\/192\.0\.2\.10:8007/);

    interactiveOutcome = await setupOutcome(machine);
  },
);

real("the answer-file mode gives the same result as the interactive run", async (t) => {
  t.timeout(300_000);
  if (!interactiveOutcome) return t.fail("the interactive run did not finish");
  const machine = applianceMachine(t);
  const file = join(machine.dir, "answers.toml");
  writeFileSync(file, answerFile(machine));
  const run = startSetup(["firstboot", "--answer", file, ...machine.args], machine.env);
  t.teardown(() => run.kill());
  t.is(await run.exited(), 0, run.text);
  t.regex(run.text, /ok {2}service: /);
  const outcome = await setupOutcome(machine);
  t.deepEqual(outcome, interactiveOutcome);
  t.deepEqual(outcome.pool, [{ vdev: "mirror-0", devices: ["DISK0", "DISK1"] }]);
});
