import test from "ava";
import {
  diskLayout,
  mkfsCommands,
  partitionPath,
  sgdiskArgs,
} from "../../appliance/setup/install/disk-layout.js";
import {
  bindMountCommands,
  copyCommand,
  grubBiosCommands,
  grubConfigCommands,
  grubEfiCommands,
  unmountCommand,
} from "../../appliance/setup/install/install-commands.js";
import { parseMountPoints } from "../../appliance/setup/install/mount-table.js";
import { renderFstab, renderGrubDefaults } from "../../appliance/setup/install/target-files.js";

test("partition names follow the kernel's rule for names ending in a digit", (t) => {
  t.is(partitionPath("/dev/sda", 3), "/dev/sda3");
  t.is(partitionPath("/dev/vdb", 1), "/dev/vdb1");
  t.is(partitionPath("/dev/nvme0n1", 2), "/dev/nvme0n1p2");
  t.is(partitionPath("/dev/mmcblk0", 1), "/dev/mmcblk0p1");
  t.is(partitionPath("/dev/loop7", 3), "/dev/loop7p3");
});

test("one sgdisk call makes BIOS boot, EFI system and root partitions", (t) => {
  t.deepEqual(sgdiskArgs("/dev/sda"), [
    "-a",
    "2048",
    "-n",
    "1:0:+1M",
    "-t",
    "1:EF02",
    "-c",
    "1:BIOS boot",
    "-n",
    "2:0:+512M",
    "-t",
    "2:EF00",
    "-c",
    "2:EFI system",
    "-n",
    "3:0:0",
    "-t",
    "3:8300",
    "-c",
    "3:cairn-root",
    "/dev/sda",
  ]);
});

test("mkfs: FAT32 on the ESP, the chosen file system on root", (t) => {
  t.deepEqual(mkfsCommands(diskLayout("/dev/nvme0n1", "xfs")), [
    { command: "mkfs.vfat", args: ["-F", "32", "-n", "EFI", "/dev/nvme0n1p2"] },
    { command: "mkfs.xfs", args: ["-f", "-q", "-L", "cairn-root", "/dev/nvme0n1p3"] },
  ]);
  t.is(mkfsCommands(diskLayout("/dev/sda", "ext4"))[1]?.command, "mkfs.ext4");
});

test("the copy keeps links, ACLs, xattrs and owners and leaves live and kernel trees out", (t) => {
  const { command, args } = copyCommand("/run/live/rootfs/filesystem.squashfs", "/mnt/target");
  t.is(command, "rsync");
  t.deepEqual(args.slice(0, 2), ["-aHAXx", "--numeric-ids"]);
  t.deepEqual(args.slice(-2), ["/run/live/rootfs/filesystem.squashfs/", "/mnt/target/"]);
  for (const pattern of ["/proc/*", "/sys/*", "/dev/*", "/run/*", "/tmp/*", "/mnt/*", "/media/*"]) {
    t.true(args.includes(`--exclude=${pattern}`), pattern);
  }
  t.true(args.includes("--exclude=/var/lib/cairn/setup-complete"));
  t.deepEqual(copyCommand("/", "/mnt/t").args.slice(-2), ["/", "/mnt/t/"]);
});

test("GRUB: BIOS on the disk, UEFI at the removable path without NVRAM, update-grub in the chroot", (t) => {
  const layout = diskLayout("/dev/sda", "ext4");
  t.deepEqual(grubBiosCommands(layout, "/mnt/t"), [
    {
      command: "grub-install",
      args: ["--target=i386-pc", "--boot-directory=/mnt/t/boot", "/dev/sda"],
    },
  ]);
  t.deepEqual(grubEfiCommands("/mnt/t"), [
    {
      command: "grub-install",
      args: [
        "--target=x86_64-efi",
        "--boot-directory=/mnt/t/boot",
        "--efi-directory=/mnt/t/boot/efi",
        "--removable",
        "--no-nvram",
      ],
    },
  ]);
  t.deepEqual(bindMountCommands("/mnt/t"), [
    { command: "mount", args: ["--bind", "/dev", "/mnt/t/dev"] },
    { command: "mount", args: ["-t", "proc", "proc", "/mnt/t/proc"] },
    { command: "mount", args: ["--bind", "/sys", "/mnt/t/sys"] },
  ]);
  t.deepEqual(grubConfigCommands("/mnt/t"), [
    { command: "chroot", args: ["/mnt/t", "update-grub"] },
  ]);
  t.deepEqual(unmountCommand("/mnt/t"), { command: "umount", args: ["-R", "/mnt/t"] });
  t.regex(renderGrubDefaults(), /^GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"$/m);
});

test("fstab mounts root and the ESP by UUID, fsck order by file system", (t) => {
  t.is(
    renderFstab("ext4", { root: "r-1", esp: "AB-CD" }),
    "# <file system> <mount point> <type> <options> <dump> <pass>\n" +
      "UUID=r-1 / ext4 errors=remount-ro 0 1\nUUID=AB-CD /boot/efi vfat umask=0077 0 1\n",
  );
  t.regex(renderFstab("xfs", { root: "r-2", esp: "X" }), /^UUID=r-2 \/ xfs defaults 0 0$/m);
});

test("mount points are read from mountinfo with escaped spaces undone", (t) => {
  const text =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" +
    "40 22 7:0 / /tmp/a\\040b rw - ext4 /dev/loop0p3 rw\n";
  t.deepEqual(parseMountPoints(text), ["/", "/tmp/a b"]);
});
