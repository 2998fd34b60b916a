/**
 * The system disk's layout: GPT with a BIOS boot partition (GRUB's core image on BIOS machines),
 * an EFI system partition and the root file system on the rest, so one disk boots either way.
 */
import type { RootFilesystem } from "./install-plan.js";

export interface PartitionSpec {
  number: number;
  /** sgdisk's type code. */
  type: string;
  name: string;
  /** sgdisk's end: a size like +1M, or 0 for the rest of the disk. */
  end: string;
}

export const BIOS_BOOT: PartitionSpec = { number: 1, type: "EF02", name: "BIOS boot", end: "+1M" };
export const ESP: PartitionSpec = { number: 2, type: "EF00", name: "EFI system", end: "+512M" };
export const ROOT: PartitionSpec = { number: 3, type: "8300", name: "cairn-root", end: "0" };
export const PARTITIONS = [BIOS_BOOT, ESP, ROOT] as const;

export const ROOT_LABEL = "cairn-root";
export const ESP_LABEL = "EFI";

/** The device of partition `number`: sda → sda3, but nvme0n1 → nvme0n1p3 (a name ending in a digit). */
export function partitionPath(disk: string, number: number): string {
  return /\d$/.test(disk) ? `${disk}p${number}` : `${disk}${number}`;
}

export interface DiskLayout {
  disk: string;
  biosBoot: string;
  esp: string;
  root: string;
  filesystem: RootFilesystem;
}

export function diskLayout(disk: string, filesystem: RootFilesystem): DiskLayout {
  return {
    disk,
    biosBoot: partitionPath(disk, BIOS_BOOT.number),
    esp: partitionPath(disk, ESP.number),
    root: partitionPath(disk, ROOT.number),
    filesystem,
  };
}

/** One sgdisk call creating all three partitions, aligned to 1 MiB. */
export function sgdiskArgs(disk: string): string[] {
  const args = ["-a", "2048"];
  for (const part of PARTITIONS) {
    args.push(
      "-n",
      `${part.number}:0:${part.end}`,
      "-t",
      `${part.number}:${part.type}`,
      "-c",
      `${part.number}:${part.name}`,
    );
  }
  return [...args, disk];
}

/** mkfs for the ESP (FAT32, as UEFI requires) and the root file system. */
export function mkfsCommands(layout: DiskLayout): { command: string; args: string[] }[] {
  const root =
    layout.filesystem === "xfs"
      ? { command: "mkfs.xfs", args: ["-f", "-q", "-L", ROOT_LABEL, layout.root] }
      : { command: "mkfs.ext4", args: ["-F", "-q", "-L", ROOT_LABEL, layout.root] };
  return [{ command: "mkfs.vfat", args: ["-F", "32", "-n", ESP_LABEL, layout.esp] }, root];
}
