import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { readCertificateInfo } from "../../appliance/server/tls/certificate-files.js";
import { scratchDir } from "../system/helpers.js";
import { KEY } from "./fixtures.js";
import { startSetup } from "./pty.js";

const TB = 4_000_787_030_016;

/** A simulated machine: a system disk, three data disks (plain files), one NIC with a route. */
function machine(t: ExecutionContext) {
  const dir = scratchDir(t, "cairn-pty-");
  const disk = (name: string, extra: object = {}) => ({
    path: join(dir, name),
    name,
    size: TB,
    model: "WDC WD40EFRX",
    rota: true,
    tran: "sata",
    type: "disk",
    mountpoints: [null],
    ...extra,
  });
  for (const name of ["sdb", "sdc", "sdd"]) writeFileSync(join(dir, name), "");
  const description = {
    lsblk: {
      blockdevices: [
        disk("sda", {
          children: [
            { name: "sda1", path: "/dev/sda1", type: "part", size: 1, mountpoints: ["/"] },
          ],
        }),
        disk("sdb"),
        disk("sdc"),
        disk("sdd"),
      ],
    },
    ipAddr: [
      {
        ifname: "eth0",
        ifindex: 2,
        operstate: "UP",
        flags: ["UP"],
        address: "52:54:00:12:34:56",
        addr_info: [{ family: "inet", local: "192.0.2.10", prefixlen: 24, scope: "global" }],
      },
    ],
    ipRoute: [{ dst: "default", gateway: "192.0.2.1", dev: "eth0" }],
    log: join(dir, "commands.log"),
  };
  const file = join(dir, "machine.json");
  writeFileSync(file, JSON.stringify(description));
  const args = [
    "--simulate",
    file,
    "--root",
    join(dir, "root"),
    "--config-dir",
    join(dir, "etc-cairn"),
    "--mount-root",
    join(dir, "mnt"),
    "--log",
    join(dir, "setup.log"),
    "--no-preallocate",
  ];
  return { dir, args, configDir: join(dir, "etc-cairn"), log: description.log };
}

const ANSWERS = (devices: string[]) => `
[network]
interface = "eth0"
method = "static"
address = "192.0.2.10/24"
gateway = "192.0.2.1"
dns = ["192.0.2.53"]
fqdn = "backup.example.com"

[disks]
devices = ${JSON.stringify(devices)}
raidlevel = "mirror"
pool = "tank"
datastore = "store1"

[retention]
keep-daily = 10

[admin]
password = "s3cret-pass"
email = "ops@example.com"
`;

test.serial(
  "firstboot in a pseudo-terminal: typed answers, applied, fingerprint shown; the answer file does the same",
  async (t) => {
    t.timeout(180_000);
    const first = machine(t);
    const setup = startSetup(["firstboot", ...first.args]);
    t.teardown(() => setup.kill());
    await setup.waitFor(/Cairn setup: Welcome[\s\S]*eth0\s+link up\s+52:54:00:12:34:56/);
    setup.mark();
    await setup.keys(KEY.enter);
    await setup.waitFor(/Cairn setup: Network/);
    // Pre-filled from the machine: DHCP now, its live address and route offered for static.
    await setup.keys(KEY.down, KEY.right, KEY.down, KEY.down, KEY.clear, "198.51.100.1", KEY.enter);
    await setup.waitFor(/outside the subnet of 192\.0\.2\.10\/24/);
    await setup.keys(KEY.clear, "192.0.2.1", KEY.down, "192.0.2.53", KEY.down, KEY.clear);
    await setup.keys("backup.example.com", KEY.enter);
    await setup.waitFor(/Cairn setup: Datastore disks/);
    await setup.keys(KEY.space, KEY.down, KEY.space);
    await setup.waitFor(/2 selected, usable 3\.64 TiB/);
    setup.mark();
    await setup.keys(KEY.enter);
    await setup.waitFor(/Cairn setup: Retention/);
    await setup.keys(KEY.down, KEY.down, KEY.clear, "10", KEY.enter);
    await setup.waitFor(/Cairn setup: Admin account/);
    await setup.keys(KEY.down, "s3cret-pass", KEY.down, "s3cret-pass", KEY.down, "ops@example.com");
    setup.mark();
    await setup.keys(KEY.enter);
    await setup.waitFor(/Cairn setup: Summary[\s\S]*daily 10/);
    setup.mark();
    await setup.keys(KEY.enter);
    await setup.waitFor(/Cairn setup: Done[\s\S]*cairn backup root\.pxar/, 60_000);
    const { fingerprint } = await readCertificateInfo(first.configDir);
    const halves = [fingerprint.slice(0, 47), fingerprint.slice(48)];
    t.true(setup.text.includes(halves[0]!) && setup.text.includes(halves[1]!), setup.text);
    t.regex(setup.text, /https:\/\/192\.0\.2\.10:8007/);
    await setup.keys(KEY.enter);
    t.is(await setup.exited(), 0);

    // The same answers from a file, on a fresh machine, give the same commands and configuration.
    const second = machine(t);
    const devices = ["sdb", "sdc"].map((name) => join(second.dir, name));
    writeFileSync(join(second.dir, "answers.toml"), ANSWERS(devices));
    const run = startSetup([
      "firstboot",
      "--answer",
      join(second.dir, "answers.toml"),
      ...second.args,
    ]);
    t.is(await run.exited(), 0, run.text);
    t.regex(run.text, /ok {2}service: /);
    const normalised = (m: { dir: string }, file: string) =>
      readFileSync(join(m.dir, file), "utf8").replaceAll(m.dir, "DIR");
    t.is(normalised(second, "commands.log"), normalised(first, "commands.log"));
    t.regex(
      normalised(first, "commands.log"),
      /"zpool","create",.*"tank","mirror","DIR\/sdb","DIR\/sdc"/,
    );
    for (const file of [
      "etc-cairn/datastore.json",
      "etc-cairn/verify.json",
      "root/etc/network/interfaces",
      "root/etc/hosts",
      "root/etc/resolv.conf",
    ]) {
      t.is(normalised(second, file), normalised(first, file), file);
    }
    t.regex(normalised(first, "etc-cairn/datastore.json"), /"keep-daily": 10/);
  },
);

test("two consoles with the answer file: one applies, the other shows its progress, both go on", async (t) => {
  t.timeout(180_000);
  const box = machine(t);
  const devices = ["sdb", "sdc"].map((name) => join(box.dir, name));
  writeFileSync(join(box.dir, "answers.toml"), ANSWERS(devices));
  const args = ["firstboot", "--answer", join(box.dir, "answers.toml"), ...box.args];
  const tty1 = startSetup(args);
  const ttyS0 = startSetup(args);
  t.is(await tty1.exited(), 0, tty1.text);
  t.is(await ttyS0.exited(), 0, ttyS0.text);
  const texts = [tty1.text, ttyS0.text];
  const followers = texts.filter((text) => text.includes("running on another console"));
  t.is(followers.length, 1, texts.join("\n----\n"));
  // the follower saw the holder's progress to the end
  t.regex(followers[0]!, /ok {2}service: [\s\S]*done: https:\/\/192\.0\.2\.10:8007/);
  const commands = readFileSync(box.log, "utf8");
  t.is(commands.match(/"zpool","create"/g)?.length, 1, "the pool is created once");
  t.false(existsSync(join(box.dir, "root", "run", "cairn-firstboot.lock")), "released on success");
});
