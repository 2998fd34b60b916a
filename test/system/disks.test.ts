import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, openSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { execaRunner } from "../../appliance/system/command-runner.js";
import { Disks } from "../../appliance/system/disks/disks.js";
import { canRun, quietly, RecordingRunner, scratchDir, uniqueName } from "./helpers.js";

const loopsHere = canRun("losetup", ["--list"]) && canRun("lsblk", ["--version"]);
const real = loopsHere ? test.serial : test.skip;

/** A loop device over a sparse file, detached when the test ends. */
function loopDevice(t: ExecutionContext, dir: string, name: string): string {
  const file = join(dir, name);
  const fd = openSync(file, "w");
  ftruncateSync(fd, 128 * 1024 * 1024);
  closeSync(fd);
  const device = execFileSync("losetup", ["--find", "--show", "--partscan", file], {
    encoding: "utf8",
  }).trim();
  t.teardown(() => quietly("losetup", ["--detach", device]));
  return device;
}

real(
  "loop devices: unused, filesystem, partitions, mounted, zfs; wipe makes them unused",
  async (t) => {
    const dir = scratchDir(t, "cairn-disks-");
    const [bare, withFs, partitioned, mounted, pooled] = ["a", "b", "c", "d", "e"].map((n) =>
      loopDevice(t, dir, n),
    ) as [string, string, string, string, string];
    execFileSync("mkfs.ext4", ["-q", "-F", withFs]);
    execFileSync("sgdisk", ["-n", "1:0:+32M", "-n", "2:0:0", partitioned], { stdio: "ignore" });
    execFileSync("partx", ["-u", partitioned], { stdio: "ignore" });
    execFileSync("mkfs.ext4", ["-q", "-F", mounted]);
    const mountDir = join(dir, "mnt");
    execFileSync("mkdir", ["-p", mountDir]);
    execFileSync("mount", [mounted, mountDir]);
    t.teardown(() => quietly("umount", [mountDir]));
    const pool = uniqueName("lp");
    if (canRun("zpool", ["list"])) {
      execFileSync("zpool", ["create", "-m", join(dir, "zmnt"), pool, pooled], { stdio: "ignore" });
      t.teardown(() => quietly("zpool", ["destroy", "-f", pool]));
    }

    const disks = new Disks(execaRunner);
    const byPath = async () =>
      new Map((await disks.list({ types: ["disk", "loop"] })).map((d) => [d.path, d]));
    let listed = await byPath();
    t.is(listed.get(bare)?.used, "unused");
    t.is(listed.get(withFs)?.used, "filesystem");
    t.is(listed.get(withFs)?.fstype, "ext4");
    t.is(listed.get(partitioned)?.used, "partitions");
    t.is(listed.get(partitioned)?.children.length, 2);
    t.is(listed.get(mounted)?.used, "mounted");
    if (canRun("zpool", ["list"])) t.is(listed.get(pooled)?.used, "zfs");
    for (const loop of [bare, withFs, partitioned, mounted, pooled]) {
      t.false(listed.get(loop)!.systemDisk);
      t.is(listed.get(loop)!.size, 128 * 1024 * 1024);
    }
    const rootDisks = [...listed.values()].filter((d) => d.systemDisk);
    t.true(rootDisks.every((d) => d.type === "disk"));
    t.false(
      (await disks.list()).some((d) => d.type === "loop"),
      "whole disks only by default",
    );

    await t.throwsAsync(disks.checkDevicesFree([bare, withFs]), {
      code: "CAIRN_E_SYSTEM_DEVICE_IN_USE",
      message: /in use \(filesystem\)/,
    });
    await t.throwsAsync(disks.initGpt(partitioned), { code: "CAIRN_E_SYSTEM_DEVICE_IN_USE" });
    await t.throwsAsync(disks.wipe(mounted), { message: /in use \(mounted\)/ });
    if (canRun("zpool", ["list"])) {
      await t.throwsAsync(disks.wipe(pooled), { message: /imported ZFS pool/ });
    }

    await disks.wipe(withFs);
    await disks.wipe(partitioned);
    listed = await byPath();
    t.is(listed.get(withFs)?.used, "unused");
    t.is(listed.get(partitioned)?.used, "unused");
    t.is(listed.get(partitioned)?.children.length, 0);
    await disks.checkDevicesFree([bare, withFs, partitioned]);

    await disks.initGpt(bare);
    t.is((await disks.get(bare)).fstype, undefined);
    const probe = execFileSync("blkid", ["-p", "-o", "export", bare], { encoding: "utf8" });
    t.regex(probe, /PTTYPE=gpt/);
  },
);

test("bad device paths run no command", async (t) => {
  const runner = new RecordingRunner();
  const disks = new Disks(runner);
  for (const bad of ["sda", "/dev/../etc/passwd", "/dev/sd a", "/tmp/x"]) {
    await t.throwsAsync(disks.wipe(bad), { code: "CAIRN_E_SYSTEM_BAD_INPUT" });
    await t.throwsAsync(disks.initGpt(bad), { code: "CAIRN_E_SYSTEM_BAD_INPUT" });
    await t.throwsAsync(disks.smart(bad), { code: "CAIRN_E_SYSTEM_BAD_INPUT" });
  }
  t.deepEqual(runner.calls, []);
});

test("smart without smartctl reports unknown", async (t) => {
  const disks = new Disks({
    run: async () => {
      throw new Error("cannot run smartctl");
    },
  });
  t.like(await disks.smart("/dev/sda"), { status: "unknown" });
});
