import test from "ava";
import { planFromAnswerFile } from "../../appliance/setup/answer-file.js";
import { usableCapacity } from "../../appliance/setup/capacity.js";
import { factsOf } from "../../appliance/setup/environment.js";
import { validatePlan } from "../../appliance/setup/plan.js";
import { initialState, planOf } from "../../tui/state.js";
import { fakeEnvironment } from "../tui/fixtures.js";

const ANSWERS = `
[network]
interface = "eth0"
method = "static"
address = "192.0.2.10/24"
gateway = "192.0.2.1"
dns = ["192.0.2.53"]
fqdn = "backup.example.com"

[disks]
devices = ["/dev/sdb", "/dev/sdc"]
raidlevel = "mirror"
pool = "tank"
datastore = "store1"
compression = "lz4"

[admin]
user = "admin@pbs"
password = "s3cret-pass"
email = "ops@example.com"
`;

test("an answer file gives the same plan as the screens with the same answers", (t) => {
  const env = fakeEnvironment();
  const state = initialState(env);
  const draft = {
    ...state.draft,
    disks: { ...state.draft.disks, selected: ["/dev/sdb", "/dev/sdc"] },
    admin: { user: "admin@pbs", password: "s3cret-pass", confirm: "", email: "ops@example.com" },
  };
  const fromScreens = validatePlan(planOf(draft), factsOf(env));
  t.deepEqual(planFromAnswerFile(ANSWERS, factsOf(env)), fromScreens);
});

test("answer-file errors name the key and the problem", (t) => {
  const facts = factsOf(fakeEnvironment());
  const cases: [string, string, RegExp][] = [
    [
      'gateway = "192.0.2.1"',
      'gateway = "198.51.100.1"',
      /key network\.gateway: 198\.51\.100\.1 is outside the subnet/,
    ],
    [
      'address = "192.0.2.10/24"',
      'address = "192.0.2.10/33"',
      /key network\.address: must be an IPv4 address/,
    ],
    [
      'raidlevel = "mirror"',
      'raidlevel = "raidz2"',
      /key disks\.raidlevel: raidz2 needs 4 or more devices/,
    ],
    ['raidlevel = "mirror"', 'raidlevel = "raid5"', /key disks\.raidlevel: /],
    [
      'devices = ["/dev/sdb", "/dev/sdc"]',
      'devices = ["/dev/sda", "/dev/sdc"]',
      /key disks\.devices: \/dev\/sda is the system disk/,
    ],
    [
      'devices = ["/dev/sdb", "/dev/sdc"]',
      'devices = ["/dev/sdb", "/dev/sdd"]',
      /key disks\.wipe: \/dev\/sdd holds data \(partitions\)/,
    ],
    ['pool = "tank"', 'pool = "mirror"', /key disks\.pool: is reserved/],
    ['password = "s3cret-pass"', 'password = "short"', /key admin\.password: must be at least 8/],
    ['email = "ops@example.com"', 'emial = "ops@example.com"', /key admin: unknown key emial/],
    ['fqdn = "backup.example.com"', "fqdn = 42", /key network\.fqdn: /],
  ];
  for (const [from, to, message] of cases) {
    t.throws(
      () => planFromAnswerFile(ANSWERS.replace(from, to), facts),
      {
        code: "CAIRN_E_SETUP_BAD_ANSWER_FILE",
        message,
      },
      to,
    );
  }
  t.throws(() => planFromAnswerFile("[network\nx=1"), { message: /not valid TOML at line 1/ });
});

test("confirmed wipes pass; defaults fill retention", (t) => {
  const facts = factsOf(fakeEnvironment());
  const plan = planFromAnswerFile(
    ANSWERS.replace('"/dev/sdc"]', '"/dev/sdd"]\nwipe = ["/dev/sdd"]'),
    facts,
  );
  t.deepEqual(plan.disks.wipe, ["/dev/sdd"]);
  t.is(plan.retention["keep-daily"], 7);
  t.is(plan.disks.ashift, 12);
});

test("usable capacity per raid level", (t) => {
  const four = [4e12, 4e12, 4e12, 3e12];
  t.is(usableCapacity("raidz2", four), 6e12);
  t.is(usableCapacity("raidz", four), 9e12);
  t.is(usableCapacity("raid10", four), 7e12);
  t.is(usableCapacity("mirror", four), 3e12);
  t.is(usableCapacity("raidz3", four), undefined);
  t.is(usableCapacity("single", [4e12]), 4e12);
});
