import test from "ava";
import { diskUse, isSystemDisk, parseLsblk } from "../../appliance/system/disks/lsblk.js";
import { parseSmartctl } from "../../appliance/system/disks/smart.js";
import { fixture } from "./helpers.js";

test("lsblk: fields, nesting, use and the system disk", (t) => {
  const devices = parseLsblk(fixture("lsblk-server.json"));
  const members = new Set(["/dev/sdb"]);
  t.deepEqual(
    devices.map((d) => [d.name, diskUse(d, members), isSystemDisk(d)]),
    [
      ["nvme0n1", "mounted", true],
      ["sda", "zfs", false],
      ["sdb", "zfs", false],
      ["sdc", "lvm", false],
      ["sdd", "partitions", false],
      ["sde", "mounted", false],
      ["sdf", "filesystem", false],
    ],
  );
  const nvme = devices[0]!;
  t.like(nvme, {
    path: "/dev/nvme0n1",
    size: 512110190592,
    model: "Samsung SSD 980 PRO 512GB",
    serial: "S5GXNF0R123456",
    wwn: "eui.002538b111b22c33",
    rotational: false,
    transport: "nvme",
    type: "disk",
    mountpoints: [],
  });
  t.is(nvme.fstype, undefined);
  t.deepEqual(nvme.children[1]!.children[0]!.mountpoints, ["/"]);
  t.is(diskUse(devices[2]!, new Set()), "unused");
});

test("lsblk: util-linux before 2.37 (strings, MOUNTPOINT, no PATH)", (t) => {
  const [sda] = parseLsblk(fixture("lsblk-old.json"));
  t.like(sda, { path: "/dev/sda", size: 500107862016, rotational: true });
  t.deepEqual(sda!.children[0]!.mountpoints, ["/"]);
  t.true(isSystemDisk(sda!));
  t.throws(() => parseLsblk("not json"), { code: "CAIRN_E_SYSTEM_PARSE_FAILED" });
  t.throws(() => parseLsblk("{}"), { code: "CAIRN_E_SYSTEM_PARSE_FAILED" });
});

test("smartctl: ATA attributes and wear, NVMe failure, unreadable device", (t) => {
  const ata = parseSmartctl(fixture("smartctl-ata.json"));
  t.is(ata.status, "passed");
  t.is(ata.wearout, 7);
  t.deepEqual(ata.attributes[2], {
    id: 194,
    name: "Temperature_Celsius",
    value: 67,
    worst: 52,
    threshold: 0,
    raw: "33 (Min/Max 18/48)",
    flags: "-O---K",
  });
  const nvme = parseSmartctl(fixture("smartctl-nvme-failed.json"));
  t.like(nvme, { status: "failed", wearout: 7, attributes: [] });
  const loop = parseSmartctl(fixture("smartctl-unreadable.json"));
  t.is(loop.status, "unknown");
  t.deepEqual(loop.messages, ["/dev/loop0: Unable to detect device type"]);
});
