/**
 * The whole appliance life in QEMU: the ISO installs itself unattended (UEFI) onto a blank 8 GiB
 * disk from an answer file on a CAIRN-AUTO disk, which also asks for a mirror pool on two 2 GiB
 * disks; the installed system then boots under UEFI and under BIOS into the console, and the
 * host backs up and restores through the forwarded port. Tens of minutes: only on request.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { ApiClient } from "../../appliance/client/api-client.js";
import { certificateFingerprint, connectTls } from "../../appliance/protocol/client/tls-connect.js";
import { listTree } from "../client/archive/tree-listing.js";
import { REPO_ROOT } from "../helpers/cli.js";
import { type Firmware, ovmfFiles, type QemuDisk, QemuMachine } from "./qemu-machine.js";

const enabled = process.env.CAIRN_ISO_TEST === "1";
const isoTest = enabled ? test : test.skip;

const MINUTE = 60_000;
/**
 * Software emulation on a loaded 2-core machine: boots took 2.5 to 12 minutes, and the first boot's
 * setup (a 4096-bit key, 65,536 chunk folders on ZFS) 17 minutes more.
 */
const BOOT_TIMEOUT = Number(process.env.CAIRN_BOOT_TIMEOUT ?? 2400) * 1000;
const PORT = Number(process.env.CAIRN_BOOT_PORT ?? 18017);
const ADMIN = { user: "admin@pbs", password: "Install-Test-Admin-1" };
const version = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).version;
const iso = process.env.CAIRN_ISO ?? join(REPO_ROOT, "out", `cairn-${version}.iso`);

const ANSWER = `[install]
disk-serial = "CAIRN-SYS"
filesystem = "ext4"
timezone = "Europe/Vienna"
keymap = "us"
root-password = "install-test-root-1"
email = "ops@example.com"

[network]
interface = "enp0s3"
method = "dhcp"
fqdn = "cairn-test.example.com"

[disks]
devices = ["/dev/vdb", "/dev/vdc"]
raidlevel = "mirror"
pool = "tank"
datastore = "store1"

[retention]
keep-last = 3
keep-daily = 7

[admin]
password = "${ADMIN.password}"
`;

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ["ignore", "ignore", "inherit"] });
}

/** The blank disks and the answer disk, in the folder `dir`. */
function makeDisks(dir: string): { system: QemuDisk; data: QemuDisk[]; answer: QemuDisk } {
  // sparse files: blank disks that take no space until written
  const system = join(dir, "system.raw");
  run("truncate", ["-s", "8G", system]);
  const data = [1, 2].map((n) => {
    const file = join(dir, `data${n}.raw`);
    run("truncate", ["-s", "2G", file]);
    return { file, format: "raw" as const, serial: `CAIRN-DATA${n}` };
  });
  const answerImage = join(dir, "answer.img");
  const answerFile = join(dir, "answer.toml");
  writeFileSync(answerFile, ANSWER);
  run("mkfs.vfat", ["-C", "-n", "CAIRN-AUTO", answerImage, "8192"]);
  run("mcopy", ["-i", answerImage, answerFile, "::answer.toml"]);
  return {
    system: { file: system, format: "raw", serial: "CAIRN-SYS" },
    data,
    answer: { file: answerImage, format: "raw", serial: "CAIRN-ANSWER" },
  };
}

/** The fingerprint the console shows: two lines of 16 colon-separated bytes. */
const SHOWN_FINGERPRINT =
  /Fingerprint\s+((?:[0-9a-f]{2}:){15}[0-9a-f]{2})\s+((?:[0-9a-f]{2}:){15}[0-9a-f]{2})/;

async function presentedFingerprint(): Promise<string> {
  const socket = await connectTls("127.0.0.1", PORT, { confirm: () => true }, 10_000);
  try {
    if (socket.getProtocol() !== "TLSv1.3") throw new Error(`got ${socket.getProtocol()}`);
    return certificateFingerprint(socket.getPeerCertificate().raw);
  } finally {
    socket.destroy();
  }
}

async function adminApi(fingerprint: string): Promise<ApiClient> {
  const anonymous = new ApiClient("127.0.0.1", PORT, { fingerprint });
  const login = (await anonymous.post("/access/ticket", {
    username: ADMIN.user,
    password: ADMIN.password,
  })) as { ticket: string; CSRFPreventionToken: string };
  return anonymous.withCredentials({
    kind: "ticket",
    ticket: login.ticket,
    csrfToken: login.CSRFPreventionToken,
  });
}

interface VdevStatus {
  name: string;
  state?: string;
  children?: VdevStatus[];
}

/** Boots the installed system and checks the console, TLS, the pool and the datastore. */
async function bootInstalled(
  t: ExecutionContext,
  firmware: Firmware,
  dir: string,
  disks: QemuDisk[],
): Promise<{ machine: QemuMachine; fingerprint: string; api: ApiClient }> {
  const machine = QemuMachine.start({
    firmware,
    uefiVars: join(dir, "uefi-vars.fd"),
    disks,
    port: PORT,
    serialLog: join(dir, `serial-${firmware}.log`),
    monitorSocket: join(dir, `monitor-${firmware}.sock`),
  });
  t.teardown(() => machine.kill());
  const started = Date.now();
  const at = () => `${Math.round((Date.now() - started) / 1000)} s`;
  await machine.waitForSerial(
    /GRUB|Booting|Linux version/,
    `${firmware} boot loader`,
    BOOT_TIMEOUT,
  );
  t.log(`${firmware}: boot loader at ${at()}`);
  const refuse = /cairn-setup \w+ failed \(exit status \d+\)|Kernel panic/;
  await machine.waitForSerial(/Web interface/, "the console dashboard on ttyS0", BOOT_TIMEOUT, {
    refuse,
  });
  const shown = await machine.waitForSerial(SHOWN_FINGERPRINT, "the fingerprint", MINUTE);
  const fingerprintShown = `${shown[1]}:${shown[2]}`;
  t.log(`${firmware}: console dashboard at ${at()}`);
  const fingerprint = await machine.waitFor("TLS 1.3 on the forwarded port", BOOT_TIMEOUT, () =>
    presentedFingerprint(),
  );
  t.log(`${firmware}: TLS 1.3 at ${at()}, fingerprint ${fingerprint}`);
  t.is(fingerprint, fingerprintShown, "the console shows the certificate the server presents");

  const api = await adminApi(fingerprint);
  const pool = (await api.get("/nodes/localhost/disks/zfs/tank")) as VdevStatus & {
    children?: VdevStatus[];
  };
  const text = JSON.stringify(pool);
  t.regex(text, /"state":"ONLINE"/);
  const mirror = JSON.stringify(pool).match(/"name":"mirror-0"/);
  t.truthy(mirror, `a mirror vdev in ${text}`);
  t.notRegex(text, /DEGRADED|FAULTED|UNAVAIL/);
  const stores = (await api.get("/admin/datastore")) as { store: string }[];
  t.deepEqual(
    stores.map((store) => store.store),
    ["store1"],
  );
  return { machine, fingerprint, api };
}

function client(args: string[], env: NodeJS.ProcessEnv, home: string) {
  const result = spawnSync(
    process.execPath,
    [join(REPO_ROOT, "dist", "appliance", "cli", "cairn.js"), ...args],
    {
      encoding: "utf8",
      env: { ...process.env, ...env, HOME: home, XDG_CONFIG_HOME: join(home, ".config") },
    },
  );
  if (result.status !== 0) {
    throw new Error(`cairn ${args.join(" ")}: exit ${result.status}\n${result.stderr}`);
  }
  return result.stdout;
}

function makeTree(root: string): void {
  mkdirSync(join(root, "etc", "app"), { recursive: true });
  writeFileSync(join(root, "etc", "app", "config.toml"), "retention = 7\n");
  const big = Buffer.alloc(6 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  writeFileSync(join(root, "data.bin"), big);
  run("ln", ["-s", "etc/app/config.toml", join(root, "link")]);
}

isoTest(
  "the image installs unattended, boots from disk under UEFI and BIOS, and backs up",
  async (t) => {
    t.timeout(150 * MINUTE);
    if (!existsSync(iso)) t.fail(`no ISO at ${iso}: build it with npm run iso`);
    const dir = await mkdtemp(join("/var/tmp", "cairn-install-test-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const { system, data, answer } = makeDisks(dir);
    copyFileSync(ovmfFiles().vars, join(dir, "uefi-vars.fd"));

    // 1. the live system from the ISO, its boot menu's automated install, answers on CAIRN-AUTO
    const installer = QemuMachine.start({
      firmware: "uefi",
      uefiVars: join(dir, "uefi-vars.fd"),
      cdrom: iso,
      disks: [system, ...data, answer],
      port: PORT,
      serialLog: join(dir, "serial-install.log"),
      monitorSocket: join(dir, "monitor-install.sock"),
      noReboot: true,
    });
    t.teardown(() => installer.kill());
    const started = Date.now();
    await installer.waitForSerial(
      new RegExp(`Cairn ${version}: automated install`),
      "GRUB menu",
      BOOT_TIMEOUT,
    );
    // the menu's third entry; a key also stops GRUB's 5 s countdown
    await installer.sendKeys(["down", "down", "ret"]);
    await installer.waitForSerial(/installer on ttyS0/, "the installer on ttyS0", BOOT_TIMEOUT, {
      refuse: /first-boot setup on ttyS0/,
    });
    t.log(`install: installer started at ${Math.round((Date.now() - started) / 1000)} s`);
    await installer.waitForExit("reboot after the install", 90 * MINUTE);
    const log = installer.serialText();
    t.notRegex(log, /FAILED \w+:|cairn-setup install failed/);
    t.regex(log, /installed on \/dev\/vda/);
    t.log(`install: finished and rebooted at ${Math.round((Date.now() - started) / 1000)} s`);

    // 2. the installed system under UEFI: first boot applies the answers, then backup and restore
    const disks = [system, ...data];
    const uefi = await bootInstalled(t, "uefi", dir, disks);
    const source = join(dir, "source");
    makeTree(source);
    const home = join(dir, "home");
    mkdirSync(home);
    const env = {
      CAIRN_REPOSITORY: `${ADMIN.user}@127.0.0.1:${PORT}:store1`,
      CAIRN_PASSWORD: ADMIN.password,
      CAIRN_FINGERPRINT: uefi.fingerprint,
    };
    client(["backup", `files.pxar:${source}`, "--backup-id", "install-test"], env, home);
    const snapshots = JSON.parse(
      client(["snapshot", "list", "--output-format", "json"], env, home),
    ) as {
      "backup-type": string;
      "backup-id": string;
      "backup-time": number;
    }[];
    t.is(snapshots.length, 1);
    const snap = snapshots[0]!;
    const snapshot = `${snap["backup-type"]}/${snap["backup-id"]}/${new Date(snap["backup-time"] * 1000).toISOString().replace(/\.\d+Z$/, "Z")}`;
    const restoreAndCompare = async (target: string) => {
      client(["restore", snapshot, "files.pxar", target], env, home);
      t.deepEqual(await listTree(target), await listTree(source));
    };
    await restoreAndCompare(join(dir, "restored-uefi"));
    await uefi.machine.powerOff();

    // 3. the same disk under BIOS: GRUB was installed for both firmwares
    const bios = await bootInstalled(t, "bios", dir, disks);
    t.is(bios.fingerprint, uefi.fingerprint, "the same installed system");
    await restoreAndCompare(join(dir, "restored-bios"));
    await bios.machine.powerOff();
  },
);
