/**
 * A small real appliance for end-to-end console tests: loop devices over sparse files as data
 * disks, a network namespace whose veth end is the management NIC (its peer, the "router", lives
 * in a second namespace), and scratch directories for the system root and configuration. Every
 * part is removed when the test ends, whether it passed or not.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionContext } from "ava";
import { parseZpoolStatus, type VdevNode } from "../../appliance/system/zfs/zpool-status.js";
import { REPO_ROOT } from "../helpers/cli.js";
import { canRun, quietly, scratchDir, uniqueName } from "../system/helpers.js";

/** Root, the zfs-fuse daemon answering, loop devices and network namespaces. */
export const realPartsHere =
  canRun("zpool", ["list"]) && canRun("losetup", ["--list"]) && canRun("ip", ["netns", "list"]);

export const ROUTER = "192.0.2.1";
export const NIC = "ceth0";

export interface ApplianceMachine {
  dir: string;
  /** The loop devices offered as data disks. */
  devices: string[];
  /** The appliance's network namespace, holding NIC. */
  netns: string;
  /** A pool name no other test uses. */
  pool: string;
  root: string;
  configDir: string;
  mountRoot: string;
  /** Where the systemctl stand-in writes each call's arguments. */
  systemctlLog: string;
  /** cairn-setup's common options for this machine. */
  args: string[];
  /** Environment for cairn-setup: systemctl answered by the stand-in. */
  env: NodeJS.ProcessEnv;
  /** Processes killed before the pool is destroyed when the test ends. */
  processes: ChildProcess[];
}

function loopDevice(file: string, cleanup: (() => void)[]): string {
  const fd = openSync(file, "w");
  ftruncateSync(fd, 128 * 1024 * 1024);
  closeSync(fd);
  const device = execFileSync("losetup", ["--find", "--show", file], { encoding: "utf8" }).trim();
  cleanup.push(() => quietly("losetup", ["--detach", device]));
  // A reused loop device can keep the kernel's partitions of its previous file.
  quietly("partx", ["-d", device]);
  return device;
}

function namespaces(cleanup: (() => void)[]): string {
  const netns = uniqueName("cna");
  const router = uniqueName("cnr");
  for (const name of [netns, router]) {
    execFileSync("ip", ["netns", "add", name]);
    cleanup.push(() => quietly("ip", ["netns", "delete", name]));
  }
  execFileSync("ip", ["-n", netns, "link", "add", NIC, "type", "veth", "peer", "name", "r0"]);
  execFileSync("ip", ["-n", netns, "link", "set", "r0", "netns", router]);
  execFileSync("ip", ["-n", router, "addr", "add", `${ROUTER}/24`, "dev", "r0"]);
  execFileSync("ip", ["-n", router, "link", "set", "r0", "up"]);
  return netns;
}

/** systemd is not running in tests: a stand-in records what would be asked of it. */
function systemctlStandIn(dir: string): { bin: string; log: string } {
  const bin = join(dir, "bin");
  const log = join(dir, "systemctl.log");
  mkdirSync(bin);
  writeFileSync(join(bin, "systemctl"), `#!/bin/sh\necho "$*" >> '${log}'\n`);
  chmodSync(join(bin, "systemctl"), 0o755);
  return { bin, log };
}

/** Destroys the pool, retrying while a process that just died still holds it. */
function destroyPool(pool: string): void {
  for (let attempt = 0; attempt < 10; attempt++) {
    const listed = spawnSync("zpool", ["list", pool], { stdio: "ignore" }).status === 0;
    if (!listed) return;
    quietly("zpool", ["destroy", "-f", pool]);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
}

export function applianceMachine(t: ExecutionContext, diskCount = 2): ApplianceMachine {
  const dir = scratchDir(t, "cairn-machine-");
  const pool = uniqueName("cp");
  // One teardown, in order: processes using the machine, the pool, then what it was built on.
  const processes: ChildProcess[] = [];
  const cleanup: (() => void)[] = [];
  t.teardown(() => {
    for (const child of processes) child.kill("SIGKILL");
    destroyPool(pool);
    for (const step of cleanup.reverse()) step();
  });
  const devices = Array.from({ length: diskCount }, (_, i) =>
    loopDevice(join(dir, `disk${i}`), cleanup),
  );
  const netns = namespaces(cleanup);
  const systemctl = systemctlStandIn(dir);
  const root = join(dir, "root");
  const configDir = join(dir, "etc-cairn");
  const mountRoot = join(dir, "mnt");
  return {
    dir,
    devices,
    netns,
    pool,
    root,
    configDir,
    mountRoot,
    systemctlLog: systemctl.log,
    processes,
    args: [
      "--root",
      root,
      "--config-dir",
      configDir,
      "--mount-root",
      mountRoot,
      "--netns",
      netns,
      "--disk-types",
      "loop",
      "--log",
      join(dir, "setup.log"),
      "--no-preallocate",
    ],
    env: { PATH: `${systemctl.bin}:${process.env.PATH ?? "/usr/bin:/bin"}` },
  };
}

/** The pool's layout: its top-level vdevs, each with its devices in order. */
export function poolLayout(pool: string): { vdev: string; devices: string[] }[] {
  const text = execFileSync("zpool", ["status", pool], { encoding: "utf8" });
  const status = parseZpoolStatus(text).find((candidate) => candidate.name === pool);
  const leaves = (node: VdevNode): string[] =>
    node.children.length === 0 ? [node.name] : node.children.flatMap(leaves);
  return (status?.tree?.children ?? []).map((vdev) => ({ vdev: vdev.name, devices: leaves(vdev) }));
}

/** The global addresses of the appliance's NIC, as `ip -json addr` reports them. */
export function nicAddresses(machine: ApplianceMachine): string[] {
  const links = JSON.parse(
    execFileSync("ip", ["-n", machine.netns, "-json", "addr", "show", "dev", NIC], {
      encoding: "utf8",
    }),
  ) as { addr_info: { family: string; local: string; prefixlen: number; scope: string }[] }[];
  return links
    .flatMap((link) => link.addr_info)
    .filter((address) => address.scope === "global")
    .map((address) => `${address.local}/${address.prefixlen}`);
}

/**
 * What setup leaves behind, with the parts that must differ between two machines (scratch
 * directory, pool name, loop device names, secrets) replaced by placeholders.
 */
export async function setupOutcome(machine: ApplianceMachine) {
  const normalise = (text: string) =>
    machine.devices
      .reduce(
        (out, device, i) =>
          out.replace(new RegExp(`\\b${device.replace("/dev/", "")}\\b`, "g"), `DISK${i}`),
        text.replaceAll(machine.dir, "DIR"),
      )
      .replaceAll(machine.pool, "POOL");
  const file = async (path: string) => normalise(await readFile(join(machine.dir, path), "utf8"));
  const users = JSON.parse(await file("etc-cairn/user.json"));
  return {
    pool: JSON.parse(normalise(JSON.stringify(poolLayout(machine.pool)))),
    datastore: JSON.parse(await file("etc-cairn/datastore.json")),
    verify: JSON.parse(await file("etc-cairn/verify.json")),
    users,
    acl: await file("etc-cairn/acl.cfg"),
    interfaces: await file("root/etc/network/interfaces"),
    hosts: await file("root/etc/hosts"),
    resolv: await file("root/etc/resolv.conf"),
    addresses: nicAddresses(machine),
    systemctl: await file("systemctl.log"),
  };
}

export interface RunningServer {
  port: number;
  child: ChildProcess;
}

/**
 * The compiled cairn-server on this machine's configuration, as the unit restarted by setup
 * would run it, but on 127.0.0.1 and a free port.
 */
export function startServer(machine: ApplianceMachine): Promise<RunningServer> {
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, "dist", "appliance", "cli", "cairn-server.js"),
      "--config-dir",
      machine.configDir,
      "--state-dir",
      join(machine.dir, "var-lib-cairn"),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  machine.processes.push(child);
  return new Promise((resolve, reject) => {
    let banner = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${banner}`)), 60_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      banner += chunk.toString();
      const listening = /listening on https:\/\/127\.0\.0\.1:(\d+)\//.exec(banner);
      if (listening) {
        clearTimeout(timer);
        resolve({ port: Number(listening[1]), child });
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${banner}`)));
  });
}
