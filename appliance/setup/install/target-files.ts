/** The text of the files the installer writes into the new system, as pure functions. */
import type { RootFilesystem } from "./install-plan.js";

export interface FstabUuids {
  root: string;
  esp: string;
}

/** /etc/fstab by UUID, so the system boots whatever the disk is called on the next start. */
export function renderFstab(filesystem: RootFilesystem, uuids: FstabUuids): string {
  const root =
    filesystem === "xfs"
      ? `UUID=${uuids.root} / xfs defaults 0 0`
      : `UUID=${uuids.root} / ext4 errors=remount-ro 0 1`;
  return [
    "# <file system> <mount point> <type> <options> <dump> <pass>",
    root,
    `UUID=${uuids.esp} /boot/efi vfat umask=0077 0 1`,
    "",
  ].join("\n");
}

/** /etc/hosts before the appliance's own line is added: the live system's host name must go. */
export function renderBaseHosts(): string {
  return "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n";
}

/** Read by console-setup on the console and by X; Debian's format. */
export function renderKeyboard(keymap: string): string {
  return [
    `XKBMODEL="pc105"`,
    `XKBLAYOUT="${keymap}"`,
    `XKBVARIANT=""`,
    `XKBOPTIONS=""`,
    `BACKSPACE="guess"`,
    "",
  ].join("\n");
}

/** The appliance console runs on the screen and the first serial port, as on the live system. */
export function renderGrubDefaults(): string {
  return [
    "# written by cairn-setup install",
    'GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"',
    'GRUB_TERMINAL="console serial"',
    'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"',
    "",
  ].join("\n");
}

/** chpasswd -e input: the user and an already made crypt(3) hash. */
export function chpasswdLine(user: string, hash: string): string {
  return `${user}:${hash}\n`;
}
