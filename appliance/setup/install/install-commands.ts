/**
 * The commands of each install step, built from the plan alone, so a test (and the log) can see
 * exactly what an install runs before it runs.
 */
import { join } from "node:path";
import type { DiskLayout } from "./disk-layout.js";

export interface Command {
  command: string;
  args: string[];
}

/**
 * Left behind by the copy: kernel file systems and scratch space (their directories are kept),
 * the live system's own state, and anything that must be unique to the installed machine.
 */
export const COPY_EXCLUDES = [
  "/proc/*",
  "/sys/*",
  "/dev/*",
  "/run/*",
  "/tmp/*",
  "/mnt/*",
  "/media/*",
  "/lost+found",
  "/var/tmp/*",
  "/var/cache/apt/archives/*.deb",
  // live-boot's mount points and its DHCP-on-every-interface network file
  "/lib/live/mount/*",
  "/usr/lib/live/mount/*",
  "/etc/systemd/network/80-live-dhcp.network",
  // ...and systemd-networkd, enabled for it: the installed system's network is ifupdown's, and an
  // enabled networkd would hold up network-online.target waiting for links it does not manage
  "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
  "/etc/systemd/system/sockets.target.wants/systemd-networkd.socket",
  "/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service",
  "/etc/systemd/system/sysinit.target.wants/systemd-network-generator.service",
  "/etc/systemd/system/dbus-org.freedesktop.network1.service",
  // first-boot setup must run on the installed system, with its own certificate
  "/var/lib/cairn/setup-complete",
  "/etc/cairn/proxy.key",
  "/etc/cairn/proxy.pem",
];

/** The directories the excludes empty; they must exist on the installed system. */
export const KEPT_EMPTY = ["proc", "sys", "dev", "run", "tmp", "mnt", "media", "var/tmp"];

export function mountRootCommands(layout: DiskLayout, target: string): Command[] {
  return [{ command: "mount", args: [layout.root, target] }];
}

/** rsync keeps hard links, ACLs, extended attributes (file capabilities) and numeric owners. */
export function copyCommand(source: string, target: string): Command {
  const from = source.endsWith("/") ? source : `${source}/`;
  return {
    command: "rsync",
    args: [
      "-aHAXx",
      "--numeric-ids",
      ...COPY_EXCLUDES.map((pattern) => `--exclude=${pattern}`),
      from,
      `${target}/`,
    ],
  };
}

export function mountEspCommands(layout: DiskLayout, target: string): Command[] {
  return [{ command: "mount", args: [layout.esp, join(target, "boot/efi")] }];
}

/** What update-grub in the chroot needs to see: devices, processes, sysfs. */
export function bindMountCommands(target: string): Command[] {
  return [
    { command: "mount", args: ["--bind", "/dev", join(target, "dev")] },
    { command: "mount", args: ["-t", "proc", "proc", join(target, "proc")] },
    { command: "mount", args: ["--bind", "/sys", join(target, "sys")] },
  ];
}

/** BIOS GRUB from the running system's GRUB (the same files as the copy's), into the BIOS boot partition. */
export function grubBiosCommands(layout: DiskLayout, target: string): Command[] {
  return [
    {
      command: "grub-install",
      args: ["--target=i386-pc", `--boot-directory=${join(target, "boot")}`, layout.disk],
    },
  ];
}

/** UEFI GRUB at the removable path (EFI/BOOT/BOOTX64.EFI), so no NVRAM entry is needed. */
export function grubEfiCommands(target: string): Command[] {
  const boot = join(target, "boot");
  return [
    {
      command: "grub-install",
      args: [
        "--target=x86_64-efi",
        `--boot-directory=${boot}`,
        `--efi-directory=${join(boot, "efi")}`,
        "--removable",
        "--no-nvram",
      ],
    },
  ];
}

/** grub.cfg is made by the installed system's own update-grub, which knows its kernels. */
export function grubConfigCommands(target: string): Command[] {
  return [{ command: "chroot", args: [target, "update-grub"] }];
}

/** Everything below the target, bind mounts included, deepest first. */
export function unmountCommand(target: string): Command {
  return { command: "umount", args: ["-R", target] };
}
