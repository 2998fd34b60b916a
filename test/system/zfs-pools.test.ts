import { closeSync, ftruncateSync, openSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { execaRunner } from "../../appliance/system/command-runner.js";
import {
  detectZfsCapabilities,
  type ZfsCapabilities,
} from "../../appliance/system/zfs/capabilities.js";
import { ZfsDatasets } from "../../appliance/system/zfs/datasets.js";
import type { RaidLevel } from "../../appliance/system/zfs/raid-layout.js";
import { Zpool } from "../../appliance/system/zfs/zpool.js";
import { canRun, quietly, scratchDir, uniqueName } from "./helpers.js";

const zfsHere = canRun("zpool", ["list"]);
const real = zfsHere ? test.serial : test.skip;
let capabilities: ZfsCapabilities;

test.before(async () => {
  if (zfsHere) capabilities = await detectZfsCapabilities(execaRunner);
});

/** `count` sparse 128 MiB files (ZFS wants 64 MiB or more per device). */
function sparseFiles(t: ExecutionContext, count: number): { dir: string; files: string[] } {
  const dir = scratchDir(t, "cairn-vdev-");
  const files = Array.from({ length: count }, (_, i) => join(dir, `d${i}`));
  for (const file of files) {
    const fd = openSync(file, "w");
    ftruncateSync(fd, 128 * 1024 * 1024);
    closeSync(fd);
  }
  return { dir, files };
}

function poolFor(t: ExecutionContext, prefix: string): string {
  const name = uniqueName(prefix);
  t.teardown(() => quietly("zpool", ["destroy", "-f", name]));
  return name;
}

const LEVELS: [RaidLevel, number, string | undefined][] = [
  ["single", 1, undefined],
  ["mirror", 2, "mirror-0"],
  ["raid10", 4, "mirror-1"],
  ["raidz", 3, "raidz1-0"],
  ["raidz2", 4, "raidz2-0"],
  ["raidz3", 5, "raidz3-0"],
];

for (const [level, count, lastVdev] of LEVELS) {
  real(`${level}: create on ${count} sparse files, list, status, destroy`, async (t) => {
    const { dir, files } = sparseFiles(t, count);
    const name = poolFor(t, `c${level}`);
    const zpool = new Zpool(execaRunner, capabilities);
    await zpool.create({ name, devices: files, raidlevel: level, mountpoint: join(dir, "mnt") });

    const listed = (await zpool.list()).find((pool) => pool.name === name);
    t.is(listed?.health, "ONLINE");
    t.true(listed!.size! > 0 && listed!.free! > 0 && listed!.alloc! >= 0);
    t.is(listed!.exact, capabilities.exactPoolList);

    const status = await zpool.get(name);
    t.is(status.state, "ONLINE");
    t.is(status.errors, "No known data errors");
    const top = status.tree!.children;
    if (lastVdev === undefined)
      t.deepEqual(
        top.map((vdev) => vdev.name),
        files,
      );
    else {
      // zfs-fuse names single-parity raidz "raidz1-0" like OpenZFS.
      t.is(top[top.length - 1]!.name, lastVdev);
      t.is(top.flatMap((vdev) => vdev.children).length, count);
    }
    const datasets = new ZfsDatasets(execaRunner, capabilities);
    const root = await datasets.info(name);
    t.is(root.mountpoint, join(dir, "mnt"));
    t.true(root.mounted);
    const props = await datasets.get(name, ["atime", "compression"]);
    t.is(props.atime, "on");
    t.not(props.compression, "off");
    if (capabilities.relatime) t.is((await datasets.get(name, ["relatime"])).relatime, "on");

    await zpool.destroy(name);
    t.false((await zpool.list()).some((pool) => pool.name === name));
    await t.throwsAsync(zpool.get(name), { code: "CAIRN_E_SYSTEM_NOT_FOUND" });
  });
}

real("export and import by search directory; scrub start and stop", async (t) => {
  const { dir, files } = sparseFiles(t, 2);
  const name = poolFor(t, "ex");
  const zpool = new Zpool(execaRunner, capabilities);
  await zpool.create({ name, devices: files, raidlevel: "mirror", mountpoint: join(dir, "mnt") });
  await zpool.scrub(name);
  t.regex((await zpool.get(name)).scan ?? "", /scrub/);
  await zpool.scrub(name, "stop");
  await zpool.export(name);
  t.false((await zpool.list()).some((pool) => pool.name === name));
  await zpool.import(name, [dir]);
  t.is((await zpool.get(name)).state, "ONLINE");
  await t.throwsAsync(zpool.scrub(uniqueName("nosuch")), { code: "CAIRN_E_SYSTEM_NOT_FOUND" });
});

real("datasets: create with settings, list, get, set, destroy", async (t) => {
  const { dir, files } = sparseFiles(t, 1);
  const name = poolFor(t, "ds");
  await new Zpool(execaRunner, capabilities).create({
    name,
    devices: files,
    raidlevel: "single",
    mountpoint: join(dir, "mnt"),
  });
  const datasets = new ZfsDatasets(execaRunner, capabilities);
  await datasets.create(`${name}/store`, {
    quota: 64 * 1024 * 1024,
    recordsize: 65536,
    compression: "gzip",
  });
  const info = await datasets.info(`${name}/store`);
  t.like(info, {
    quota: 64 * 1024 * 1024,
    reservation: 0,
    recordsize: 65536,
    compression: "gzip",
    mountpoint: join(dir, "mnt", "store"),
    mounted: true,
  });
  t.deepEqual(
    (await datasets.list(name)).map((d) => d.name),
    [name, `${name}/store`],
  );
  await datasets.set(`${name}/store`, { quota: 0, reservation: 1024 * 1024, compression: "off" });
  t.like(await datasets.info(`${name}/store`), {
    quota: 0,
    reservation: 1024 * 1024,
    compression: "off",
  });
  t.is((await datasets.get(`${name}/store`, ["reservation"])).reservation, String(1024 * 1024));
  await t.throwsAsync(datasets.set(`${name}/store`, { recordsize: 1000 }), {
    code: "CAIRN_E_SYSTEM_BAD_INPUT",
  });
  await datasets.destroy(`${name}/store`);
  await t.throwsAsync(datasets.info(`${name}/store`), { code: "CAIRN_E_SYSTEM_NOT_FOUND" });
  await t.throwsAsync(datasets.destroy(name), { message: /destroy the pool instead/ });
});
