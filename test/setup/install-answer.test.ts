import test from "ava";
import { parse } from "smol-toml";
import { planFromAnswerFile } from "../../appliance/setup/answer-file.js";
import { SetupError } from "../../appliance/setup/errors.js";
import {
  answerSourceFromCmdline,
  findLabelledDevice,
} from "../../appliance/setup/install/answer-source.js";
import { installAnswerFromText } from "../../appliance/setup/install/install-answer.js";

const GiB = 1024 ** 3;

const facts = {
  disks: [
    { path: "/dev/sda", size: 240 * GiB, systemDisk: false, used: "unused", serial: "SSD-A" },
    { path: "/dev/sdb", size: 4000 * GiB, systemDisk: false, used: "unused", serial: "HDD-B" },
    { path: "/dev/sdc", size: 4000 * GiB, systemDisk: false, used: "unused", serial: "HDD-C" },
    { path: "/dev/sdd", size: 120 * GiB, systemDisk: false, used: "mounted", serial: "USB" },
    { path: "/dev/sde", size: 2 * GiB, systemDisk: false, used: "unused", serial: "TINY" },
  ],
  interfaces: ["eno1"],
};

const FIRSTBOOT = `
[network]
interface = "eno1"
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

[admin]
password = "admin-pass-1"
`;

function answer(install: string): string {
  return `${FIRSTBOOT}\n[install]\n${install}\n`;
}

const BASE = `filesystem = "xfs"
timezone = "Europe/Vienna"
keymap = "de"
root-password = "root-pass-1"
email = "ops@example.com"`;

test("one file takes the install and the first boot: [install] plus the first-boot sections", (t) => {
  const result = installAnswerFromText(answer(`disk = "/dev/sda"\n${BASE}`), facts);
  t.deepEqual(result.install, {
    disk: "/dev/sda",
    filesystem: "xfs",
    timezone: "Europe/Vienna",
    keymap: "de",
    rootPassword: "root-pass-1",
    email: "ops@example.com",
    network: {
      interface: "eno1",
      method: "static",
      address: "192.0.2.10/24",
      gateway: "192.0.2.1",
      dns: ["192.0.2.53"],
      fqdn: "backup.example.com",
    },
  });
  t.deepEqual(result.firstboot.disks.devices, ["/dev/sdb", "/dev/sdc"]);
  // the copy for the installed system has no [install] and so no root password
  const copy = parse(result.firstbootText) as Record<string, unknown>;
  t.deepEqual(Object.keys(copy).sort(), ["admin", "disks", "network"]);
  t.false(result.firstbootText.includes("root-pass-1"));
  // and first-boot setup reads the full file too, skipping [install]
  t.is(planFromAnswerFile(answer(`disk = "/dev/sda"\n${BASE}`)).disks.pool, "tank");
});

test("the system disk by serial, or the smallest/largest free disk not used for the datastore", (t) => {
  t.is(
    installAnswerFromText(answer(`disk-serial = "SSD-A"\n${BASE}`), facts).install.disk,
    "/dev/sda",
  );
  const minimum = { ...facts, minDiskBytes: 8 * GiB };
  // sdd is mounted (the install stick), sde too small, sdb/sdc belong to the datastore
  t.is(
    installAnswerFromText(answer(`disk-select = "smallest"\n${BASE}`), minimum).install.disk,
    "/dev/sda",
  );
  t.is(
    installAnswerFromText(answer(`disk-select = "largest"\n${BASE}`), minimum).install.disk,
    "/dev/sda",
  );
  const noDatastore = answer(`disk-select = "largest"\n${BASE}`).replace(
    'devices = ["/dev/sdb", "/dev/sdc"]\nraidlevel = "mirror"',
    'devices = ["/dev/sdc"]\nraidlevel = "single"',
  );
  t.is(installAnswerFromText(noDatastore, minimum).install.disk, "/dev/sdb");
});

const refusals: [string, string, string, RegExp][] = [
  ["no disk key", BASE, "install.disk", /exactly one of disk, disk-serial, disk-select/],
  [
    "two disk keys",
    `disk = "/dev/sda"\ndisk-select = "smallest"\n${BASE}`,
    "install.disk",
    /exactly one/,
  ],
  [
    "an unknown serial",
    `disk-serial = "NOPE"\n${BASE}`,
    "install.disk-serial",
    /no single disk has serial NOPE/,
  ],
  [
    "a bad selector",
    `disk-select = "fastest"\n${BASE}`,
    "install.disk-select",
    /smallest, largest/,
  ],
  ["a datastore disk", `disk = "/dev/sdb"\n${BASE}`, "install.disk", /also one of disks\.devices/],
  ["a mounted disk", `disk = "/dev/sdd"\n${BASE}`, "install.disk", /in use \(mounted\)/],
  ["a too small disk", `disk = "/dev/sde"\n${BASE}`, "install.disk", /too small/],
  [
    "a bad file system",
    `disk = "/dev/sda"\n${BASE.replace('"xfs"', '"zfs"')}`,
    "install.filesystem",
    /ext4 or xfs/,
  ],
  [
    "a short root password",
    `disk = "/dev/sda"\n${BASE.replace("root-pass-1", "x")}`,
    "install.root-password",
    /at least 8/,
  ],
  ["an unknown key", `disk = "/dev/sda"\nswap = 4\n${BASE}`, "install.swap", /unknown key/],
];

for (const [what, install, key, message] of refusals) {
  test(`refuses ${what}, naming the key`, (t) => {
    const error = t.throws(() => installAnswerFromText(answer(install), facts), {
      instanceOf: SetupError,
    });
    t.is(error?.context.field, key);
    t.regex(error?.message ?? "", new RegExp(`^answer file key ${key.replace(".", "\\.")}: `));
    t.regex(error?.message ?? "", message);
  });
}

test("refuses a file without [install] and a bad first-boot section, naming the key", (t) => {
  t.throws(() => installAnswerFromText(FIRSTBOOT, facts), { message: /key install: .*missing/ });
  const badFqdn = answer(`disk = "/dev/sda"\n${BASE}`).replace("backup.example.com", "backup");
  const error = t.throws(() => installAnswerFromText(badFqdn, facts), { instanceOf: SetupError });
  t.is(error?.context.field, "network.fqdn");
  t.throws(() => installAnswerFromText("[install\n", facts), {
    message: /not valid TOML at line 1/,
  });
});

test("the kernel command line names the answer source", (t) => {
  const line = "BOOT_IMAGE=/live/vmlinuz boot=live quiet cairn.mode=install";
  t.is(answerSourceFromCmdline(line), undefined);
  t.deepEqual(answerSourceFromCmdline(`${line} cairn.answer=auto\n`), {
    kind: "partition",
    label: "CAIRN-AUTO",
    file: "answer.toml",
  });
  t.deepEqual(answerSourceFromCmdline(`${line} cairn.answer=LABEL=SITE7`), {
    kind: "partition",
    label: "SITE7",
    file: "answer.toml",
  });
  t.deepEqual(answerSourceFromCmdline(`${line} cairn.answer=/run/live/medium/answer.toml`), {
    kind: "file",
    path: "/run/live/medium/answer.toml",
  });
  t.deepEqual(answerSourceFromCmdline("cairn.answer=/a.toml cairn.answer=/b.toml"), {
    kind: "file",
    path: "/b.toml",
  });
  t.throws(() => answerSourceFromCmdline("cairn.answer=http://x/a"), {
    message: /cairn\.answer=http/,
  });
  t.throws(() => answerSourceFromCmdline("cairn.answer=/../etc/shadow"));
});

const LSBLK = JSON.stringify({
  blockdevices: [
    {
      path: "/dev/sda",
      label: null,
      fstype: null,
      children: [{ path: "/dev/sda1", label: "cairn-root", fstype: "ext4" }],
    },
    {
      path: "/dev/sdd",
      label: null,
      fstype: "iso9660",
      children: [
        { path: "/dev/sdd1", label: "CAIRN_0_1_0", fstype: "iso9660" },
        { path: "/dev/sdd3", label: "CAIRN-AUTO", fstype: "vfat" },
      ],
    },
  ],
});

test("the answer partition is found by its label in lsblk's JSON", (t) => {
  t.is(findLabelledDevice(LSBLK), "/dev/sdd3");
  t.is(findLabelledDevice(LSBLK, "cairn-root"), "/dev/sda1");
  t.is(findLabelledDevice('{"blockdevices":[]}'), undefined);
  const twice = LSBLK.replace('"cairn-root"', '"CAIRN-AUTO"');
  t.throws(() => findLabelledDevice(twice), { message: /2 partitions are labelled CAIRN-AUTO/ });
});
