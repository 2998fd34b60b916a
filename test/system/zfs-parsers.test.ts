import test from "ava";
import {
  bestCompression,
  compressionSupported,
  parsePropertyTable,
  type ZfsCapabilities,
} from "../../appliance/system/zfs/capabilities.js";
import { validateDatasetName, validatePoolName } from "../../appliance/system/zfs/names.js";
import { vdevArgs } from "../../appliance/system/zfs/raid-layout.js";
import { parsePercent, parseZfsSize } from "../../appliance/system/zfs/sizes.js";
import { parseZfsGet } from "../../appliance/system/zfs/zfs-get.js";
import { parseZpoolList, poolListColumns } from "../../appliance/system/zfs/zpool-list.js";
import { parseZpoolStatus, poolDevices } from "../../appliance/system/zfs/zpool-status.js";
import { fixture } from "./helpers.js";

test("sizes: exact and human forms", (t) => {
  t.is(parseZfsSize("131072"), 131072);
  t.is(parseZfsSize("456K"), 456 * 1024);
  t.is(parseZfsSize("21.4M"), Math.round(21.4 * 1024 ** 2));
  t.is(parseZfsSize("1.2K"), 1229);
  t.is(parsePercent("17%"), 17);
  t.is(parsePercent("12"), 12);
  t.is(parsePercent("-"), undefined);
  t.throws(() => parseZfsSize("1.00x"), { code: "CAIRN_E_SYSTEM_PARSE_FAILED" });
});

test("zpool list: zfs-fuse human sizes without fragmentation", (t) => {
  const pools = parseZpoolList(fixture("zfs-fuse-list.txt"), poolListColumns(false), false);
  t.deepEqual(pools, [
    {
      name: "sample",
      size: 615 * 1024 ** 2,
      alloc: 904 * 1024,
      free: 614 * 1024 ** 2,
      health: "DEGRADED",
      exact: false,
    },
  ]);
});

test("zpool list: a FAULTED pool whose devices are gone has no sizes, and is still listed", (t) => {
  const columns = poolListColumns(false);
  const pools = parseZpoolList(fixture("zfs-fuse-list-faulted.txt"), columns, false);
  t.deepEqual(pools, [{ name: "dsjf8w0oq", health: "FAULTED", exact: false }]);
});

test("zpool list: OpenZFS -Hp exact sizes with fragmentation", (t) => {
  const pools = parseZpoolList(fixture("openzfs-list-p.txt"), poolListColumns(true), true);
  t.is(pools.length, 2);
  t.deepEqual(pools[0], {
    name: "rpool",
    size: 1992864825344,
    alloc: 1206545743872,
    free: 786319081472,
    health: "ONLINE",
    frag: 12,
    exact: true,
  });
  t.is(pools[1]!.frag, undefined, "'-' means not available");
  t.throws(() => parseZpoolList("a\tb\n", poolListColumns(true), true), {
    code: "CAIRN_E_SYSTEM_PARSE_FAILED",
  });
});

test("zpool status (zfs-fuse): degraded raidz2 + mirror tree", (t) => {
  const [pool, ...rest] = parseZpoolStatus(fixture("zfs-fuse-status-degraded.txt"));
  t.is(rest.length, 0);
  t.is(pool!.name, "sample");
  t.is(pool!.state, "DEGRADED");
  t.is(pool!.scan, "none requested");
  t.is(pool!.errors, "No known data errors");
  t.regex(pool!.status!, /taken offline by the administrator\. Sufficient replicas/);
  const tree = pool!.tree!;
  t.is(tree.name, "sample");
  t.deepEqual(
    tree.children.map((vdev) => [vdev.name, vdev.state, vdev.children.length]),
    [
      ["raidz2-0", "DEGRADED", 4],
      ["mirror-1", "ONLINE", 2],
    ],
  );
  t.deepEqual(tree.children[0]!.children[1], {
    name: "/srv/vd/g2",
    state: "OFFLINE",
    read: 0,
    write: 0,
    cksum: 0,
    children: [],
  });
  t.deepEqual(
    poolDevices(pool!),
    ["g1", "g2", "g3", "g4", "g5", "g6"].map((g) => `/srv/vd/${g}`),
  );
});

test("zpool status (OpenZFS): resilver, nested replacing vdev, notes, sections, error files", (t) => {
  const [pool] = parseZpoolStatus(fixture("openzfs-status-resilver.txt"));
  t.is(pool!.state, "DEGRADED");
  t.regex(pool!.scan!, /^resilver in progress since .* 2\.40T total 212G resilvered, 26\.04% done/);
  t.regex(pool!.errors!, /following files: tank\/data:<0x0> \/tank\/data\/file\.bin$/);
  const replacing = pool!.tree!.children[0]!.children[1]!;
  t.is(replacing.name, "replacing-1");
  t.deepEqual(
    replacing.children.map((d) => [d.name, d.state, d.read, d.write, d.note]),
    [
      ["ata-DISK_B", "FAULTED", 3, 41, "too many errors"],
      ["ata-DISK_C", "ONLINE", 0, 0, "(resilvering)"],
    ],
  );
  t.is(pool!.tree!.children[1]!.children[1]!.cksum, 1229);
  t.deepEqual(Object.keys(pool!.sections), ["logs", "cache", "spares"]);
  t.is(pool!.sections.spares![0]!.state, "AVAIL");
  t.deepEqual(poolDevices(pool!), [
    "ata-DISK_A",
    "ata-DISK_B",
    "ata-DISK_C",
    "ata-DISK_D",
    "ata-DISK_E",
    "nvme0n1p1",
    "nvme0n1p2",
    "ata-DISK_F",
  ]);
});

test("zpool status (OpenZFS): two pools, scrub lines", (t) => {
  const pools = parseZpoolStatus(fixture("openzfs-status-two-pools.txt"));
  t.deepEqual(
    pools.map((p) => [p.name, p.state, p.tree?.children.length]),
    [
      ["rpool", "ONLINE", 1],
      ["backup", "ONLINE", 1],
    ],
  );
  t.regex(pools[0]!.scan!, /^scrub repaired 0B in 00:01:12 with 0 errors/);
  t.regex(pools[1]!.scan!, /55\.77% done, 00:38:05 to go$/);
});

test("zfs get -Hp: tab-separated values", (t) => {
  const map = parseZfsGet(fixture("zfs-fuse-get.txt"));
  t.deepEqual([...map.keys()], ["sample", "sample/ds"]);
  t.deepEqual(map.get("sample/ds")!.get("mountpoint"), { value: "/sample/ds", source: "default" });
  t.is(map.get("sample")!.get("available")!.value, "344660096");
  t.throws(() => parseZfsGet("a b c\n"), { code: "CAIRN_E_SYSTEM_PARSE_FAILED" });
});

test("capabilities: property tables of zfs-fuse and OpenZFS", (t) => {
  const fuse = parsePropertyTable(fixture("zfs-fuse-zfs-get-usage.txt"));
  t.deepEqual(fuse.get("compression"), ["on", "off", "lzjb", "gzip", "gzip-[1-9]", "zle"]);
  t.false(fuse.has("relatime"));
  t.false(parsePropertyTable(fixture("zfs-fuse-zpool-get-usage.txt")).has("fragmentation"));
  const open = parsePropertyTable(fixture("openzfs-zfs-get-usage.txt"));
  t.true(open.has("relatime"));
  t.true(open.get("compression")!.includes("lz4"));
  t.true(parsePropertyTable(fixture("openzfs-zpool-get-usage.txt")).has("fragmentation"));

  const caps = (compression: string[]): ZfsCapabilities => ({
    exactPoolList: false,
    fragmentation: false,
    relatime: false,
    compression,
  });
  t.is(bestCompression(caps(fuse.get("compression")!)), "lzjb");
  t.is(bestCompression(caps(open.get("compression")!)), "lz4");
  t.true(compressionSupported(caps(fuse.get("compression")!), "gzip-9"));
  t.false(compressionSupported(caps(fuse.get("compression")!), "gzip-10"));
  t.false(compressionSupported(caps(fuse.get("compression")!), "lz4"));
  t.true(compressionSupported(caps(open.get("compression")!), "zstd-19"));
});

test("names: pools and datasets", (t) => {
  t.is(validatePoolName("tank"), "tank");
  t.is(validateDatasetName("tank/a.b/c:d"), "tank/a.b/c:d");
  for (const bad of [
    "",
    "1tank",
    "mirror",
    "raidz2",
    "c0t0",
    "ta nk",
    "-x",
    "a/b",
    "x".repeat(65),
  ]) {
    t.throws(() => validatePoolName(bad), { code: "CAIRN_E_SYSTEM_BAD_INPUT" }, bad);
  }
  for (const bad of ["tank/", "tank//a", "tank/a@snap", "tank/..", "tank/a b", "/tank"]) {
    t.throws(() => validateDatasetName(bad), { code: "CAIRN_E_SYSTEM_BAD_INPUT" }, bad);
  }
});

test("raid layouts: vdev arguments and device counts", (t) => {
  const d = (n: number) => Array.from({ length: n }, (_, i) => `/dev/d${i}`);
  t.deepEqual(vdevArgs("single", d(1)), ["/dev/d0"]);
  t.deepEqual(vdevArgs("mirror", d(3)), ["mirror", "/dev/d0", "/dev/d1", "/dev/d2"]);
  t.deepEqual(vdevArgs("raid10", d(4)), [
    "mirror",
    "/dev/d0",
    "/dev/d1",
    "mirror",
    "/dev/d2",
    "/dev/d3",
  ]);
  t.deepEqual(vdevArgs("raidz3", d(5)), ["raidz3", ...d(5)]);
  const refused: [Parameters<typeof vdevArgs>[0], number][] = [
    ["single", 2],
    ["mirror", 1],
    ["raid10", 2],
    ["raid10", 5],
    ["raidz", 2],
    ["raidz2", 3],
    ["raidz3", 4],
  ];
  for (const [level, count] of refused) {
    const error = t.throws(() => vdevArgs(level, d(count)), { code: "CAIRN_E_SYSTEM_BAD_INPUT" });
    t.regex(error!.message, new RegExp(level));
  }
  t.throws(() => vdevArgs("mirror", ["/dev/a", "/dev/a"]), { message: /listed twice/ });
  t.throws(() => vdevArgs("mirror", ["sda", "sdb"]), { message: /absolute path/ });
  t.throws(() => vdevArgs("raid5" as "raidz", d(3)), { message: /must be one of/ });
});
