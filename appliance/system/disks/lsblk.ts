import { SystemError } from "../errors.js";

/** The columns asked of lsblk; `parseLsblk` reads exactly these. */
export const LSBLK_COLUMNS = [
  "PATH",
  "NAME",
  "SIZE",
  "MODEL",
  "SERIAL",
  "WWN",
  "ROTA",
  "TRAN",
  "TYPE",
  "FSTYPE",
  "MOUNTPOINTS",
];

/** One block device as lsblk reports it, children (partitions, LVM, crypt) nested. */
export interface BlockDevice {
  path: string;
  name: string;
  size: number;
  model?: string;
  serial?: string;
  wwn?: string;
  rotational: boolean;
  transport?: string;
  /** disk, part, loop, lvm, crypt, rom… */
  type: string;
  fstype?: string;
  mountpoints: string[];
  children: BlockDevice[];
}

type Raw = Record<string, unknown>;

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;

/** `lsblk --json --bytes -o …` output; accepts the older spellings (strings for numbers, MOUNTPOINT). */
export function parseLsblk(json: string): BlockDevice[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new SystemError("parse-failed", "lsblk printed no valid JSON", {}, { cause: err });
  }
  const devices = (parsed as { blockdevices?: unknown }).blockdevices;
  if (!Array.isArray(devices)) {
    throw new SystemError("parse-failed", "lsblk output has no blockdevices list");
  }
  return devices.map((raw) => toDevice(raw as Raw));
}

function toDevice(raw: Raw): BlockDevice {
  const name = text(raw.name) ?? text(raw.kname);
  if (name === undefined) throw new SystemError("parse-failed", "lsblk device without a name");
  const mounts = Array.isArray(raw.mountpoints) ? raw.mountpoints : [raw.mountpoint];
  const device: BlockDevice = {
    path: text(raw.path) ?? `/dev/${name}`,
    name,
    size: Number(raw.size ?? 0),
    rotational: raw.rota === true || raw.rota === "1" || raw.rota === 1,
    type: text(raw.type) ?? "unknown",
    mountpoints: mounts.map(text).filter((mount): mount is string => mount !== undefined),
    children: Array.isArray(raw.children)
      ? raw.children.map((child) => toDevice(child as Raw))
      : [],
  };
  for (const [key, value] of [
    ["model", raw.model],
    ["serial", raw.serial],
    ["wwn", raw.wwn],
    ["transport", raw.tran],
    ["fstype", raw.fstype],
  ] as const) {
    const present = text(value);
    if (present !== undefined) device[key] = present;
  }
  return device;
}

export type DiskUse = "mounted" | "zfs" | "lvm" | "partitions" | "filesystem" | "unused";

/** Mount points that make a disk the one the system runs from. */
const SYSTEM_MOUNTS = new Set(["/", "/boot", "/boot/efi", "/usr", "/var", "[SWAP]"]);

function everyDevice(device: BlockDevice): BlockDevice[] {
  return [device, ...device.children.flatMap(everyDevice)];
}

/**
 * What a disk is used for, most binding first: anything below it mounted, a ZFS member (by
 * signature or by appearing in a pool), an LVM physical volume, partitions, a bare filesystem.
 */
export function diskUse(device: BlockDevice, poolMembers: ReadonlySet<string>): DiskUse {
  const all = everyDevice(device);
  if (all.some((part) => part.mountpoints.length > 0)) return "mounted";
  if (all.some((part) => part.fstype === "zfs_member" || poolMembers.has(part.path))) return "zfs";
  if (all.some((part) => part.fstype === "LVM2_member" || part.type === "lvm")) return "lvm";
  if (device.children.some((child) => child.type === "part")) return "partitions";
  if (device.fstype !== undefined) return "filesystem";
  return "unused";
}

/** Whether the system's root, boot or swap lives on this disk. */
export function isSystemDisk(device: BlockDevice): boolean {
  return everyDevice(device).some((part) => part.mountpoints.some((m) => SYSTEM_MOUNTS.has(m)));
}
