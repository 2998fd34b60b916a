import { realpath, stat } from "node:fs/promises";
import type { CommandRunner } from "../command-runner.js";
import { badInput, SystemError } from "../errors.js";
import { parseZpoolStatus, poolDevices } from "../zfs/zpool-status.js";
import {
  type BlockDevice,
  type DiskUse,
  diskUse,
  isSystemDisk,
  LSBLK_COLUMNS,
  parseLsblk,
} from "./lsblk.js";
import { parseSmartctl, type SmartReport } from "./smart.js";

export interface DiskInfo extends BlockDevice {
  used: DiskUse;
  systemDisk: boolean;
}

export interface ListDisksOptions {
  /** Device types to list; default whole disks only. Tests add "loop". */
  types?: string[];
}

const DEVICE_PATH = /^\/dev\/[A-Za-z0-9_./:-]+$/;

function checkDevicePath(path: string): string {
  if (!DEVICE_PATH.test(path) || path.includes("..")) {
    throw badInput("disk", path, "must be a device path like /dev/sdb");
  }
  return path;
}

/** Block devices for the operator: lsblk, completed by blkid probes and ZFS pool membership. */
export class Disks {
  constructor(private readonly runner: CommandRunner) {}

  async list(options: ListDisksOptions = {}): Promise<DiskInfo[]> {
    const types = new Set(options.types ?? ["disk"]);
    const { stdout } = await this.runner.run("lsblk", [
      "--json",
      "--bytes",
      "-o",
      LSBLK_COLUMNS.join(","),
    ]);
    const devices = parseLsblk(stdout).filter((device) => types.has(device.type));
    const members = await this.poolMembers();
    for (const device of devices) await this.#probe(device);
    return devices.map((device) => ({
      ...device,
      used: diskUse(device, members),
      systemDisk: isSystemDisk(device),
    }));
  }

  async get(path: string, options: ListDisksOptions = {}): Promise<DiskInfo> {
    checkDevicePath(path);
    const types = options.types ?? ["disk", "loop"];
    const found = (await this.list({ types })).find((disk) => disk.path === path);
    if (!found) throw new SystemError("not-found", `no disk ${path}`, { disk: path });
    return found;
  }

  /** Device paths of every leaf vdev in imported pools (empty when ZFS is not installed). */
  async poolMembers(): Promise<Set<string>> {
    const result = await this.runner.run("zpool", ["status"], { allowFailure: true });
    const members = new Set<string>();
    if (result.exitCode !== 0) return members;
    for (const pool of parseZpoolStatus(result.stdout)) {
      for (const leaf of poolDevices(pool)) {
        const path = leaf.startsWith("/") ? leaf : `/dev/${leaf}`;
        members.add(path);
        members.add(await realpath(path).catch(() => path));
      }
    }
    return members;
  }

  /** Fills filesystem types lsblk left empty (no udev database, e.g. in containers). */
  async #probe(device: BlockDevice): Promise<void> {
    if (device.fstype === undefined) {
      const result = await this.runner.run("blkid", ["-p", "-o", "export", device.path], {
        allowFailure: true,
      });
      const type = /^TYPE=(.+)$/m.exec(result.stdout)?.[1];
      if (result.exitCode === 0 && type) device.fstype = type;
    }
    for (const child of device.children) await this.#probe(child);
  }

  /**
   * Refuses devices that hold anything: block devices must be listed as unused and not the
   * system disk; files (test vdevs) must not belong to a pool.
   */
  async checkDevicesFree(paths: readonly string[]): Promise<void> {
    const disks = await this.list({ types: ["disk", "loop"] });
    const members = await this.poolMembers();
    for (const path of paths) {
      const info = await stat(path).catch(() => undefined);
      if (!info) throw new SystemError("not-found", `no device ${path}`, { device: path });
      if (info.isFile()) {
        if (members.has(path)) throw inUse(path, "zfs");
        continue;
      }
      if (!info.isBlockDevice()) throw badInput("device", path, "is neither a disk nor a file");
      const resolved = await realpath(path);
      const disk = disks.find((d) => d.path === path || d.path === resolved);
      if (!disk)
        throw badInput("device", path, "is not a whole disk (partitions are not accepted)");
      if (disk.systemDisk) throw inUse(path, "the system disk");
      if (disk.used !== "unused") throw inUse(path, disk.used);
    }
  }

  /** SMART health and attributes; status unknown when smartctl is absent or cannot read it. */
  async smart(path: string): Promise<SmartReport> {
    checkDevicePath(path);
    const result = await this.runner
      .run("smartctl", ["--json", "-H", "-A", path], { allowFailure: true })
      .catch(() => undefined);
    if (!result) {
      return { status: "unknown", attributes: [], messages: ["smartctl is not installed"] };
    }
    return parseSmartctl(result.stdout);
  }

  /** Removes every signature and the partition table; refused for mounted, pooled and system disks. */
  async wipe(path: string): Promise<void> {
    const disk = await this.get(checkDevicePath(path));
    if (disk.systemDisk) throw inUse(path, "the system disk");
    if (disk.used === "mounted") throw inUse(path, "mounted");
    const members = await this.poolMembers();
    if ([disk, ...disk.children].some((part) => members.has(part.path))) {
      throw inUse(path, "an imported ZFS pool");
    }
    for (const child of disk.children) await this.runner.run("wipefs", ["-a", child.path]);
    await this.runner.run("wipefs", ["-a", path]);
    if (await this.#has("sgdisk")) await this.runner.run("sgdisk", ["--zap-all", path]);
    // Let the kernel forget the old partitions (loop devices keep them otherwise).
    await this.runner.run("partx", ["-d", path], { allowFailure: true }).catch(() => undefined);
  }

  async #has(program: string): Promise<boolean> {
    const found = await this.runner.run("which", [program], { allowFailure: true });
    return found.exitCode === 0;
  }

  /** Writes an empty GPT; only on an unused disk. */
  async initGpt(path: string): Promise<void> {
    const disk = await this.get(checkDevicePath(path));
    if (disk.systemDisk) throw inUse(path, "the system disk");
    if (disk.used !== "unused") throw inUse(path, disk.used);
    await this.runner.run("sgdisk", ["-o", path]);
  }
}

function inUse(path: string, use: string): SystemError {
  return new SystemError("device-in-use", `${path} is in use (${use}); wipe it first`, {
    device: path,
    use,
  });
}
