/** A made-up appliance the screenshots show: four data disks, two NICs, a store in use. */
import type { ConsoleStatus } from "../../appliance/setup/console-status.js";
import type { SetupEnvironment } from "../../appliance/setup/environment.js";
import type { DiskInfo } from "../../appliance/system/disks/disks.js";

const TB = 4_000_787_030_016;

function disk(name: string, extra: Partial<DiskInfo> = {}): DiskInfo {
  return {
    path: `/dev/${name}`,
    name,
    size: TB,
    model: "WDC WD40EFRX",
    serial: `WD-${name}`,
    rotational: true,
    transport: "sata",
    type: "disk",
    mountpoints: [],
    children: [],
    used: "unused",
    systemDisk: false,
    ...extra,
  };
}

export const SAMPLE_ENVIRONMENT: SetupEnvironment = {
  version: "0.1.0",
  cpu: { model: "Intel(R) Xeon(R) E-2236 CPU @ 3.40GHz", count: 12 },
  memoryBytes: 32 * 1024 ** 3,
  disks: [
    disk("sda", {
      size: 240_057_409_536,
      model: "Samsung SSD 860",
      rotational: false,
      systemDisk: true,
      used: "mounted",
    }),
    disk("sdb"),
    disk("sdc"),
    disk("sdd", { used: "partitions" }),
    disk("sde"),
  ],
  interfaces: [
    {
      name: "eno1",
      index: 2,
      state: "UP",
      flags: ["UP"],
      mac: "3c:ec:ef:12:34:56",
      addresses: [{ family: 4, cidr: "192.0.2.10/24", scope: "global" }],
    },
    { name: "eno2", index: 3, state: "DOWN", flags: [], mac: "3c:ec:ef:12:34:57", addresses: [] },
  ],
  capabilities: {
    exactPoolList: true,
    fragmentation: true,
    relatime: true,
    compression: ["on", "off", "lz4", "gzip", "gzip-[1-9]", "zle", "zstd"],
  },
  network: {
    interface: "eno1",
    method: "dhcp",
    address: "192.0.2.10/24",
    gateway: "192.0.2.1",
    dns: ["192.0.2.53"],
    fqdn: "backup.example.com",
  },
};

export const SAMPLE_FINGERPRINT =
  "5f:1c:9a:e2:04:7b:d3:88:61:0f:ab:42:c7:19:e5:3d:92:6e:b0:17:4a:f8:2c:d5:73:08:be:41:9d:e6:15:c2";

export const SAMPLE_STATUS: ConsoleStatus = {
  url: "https://backup.example.com:8007",
  fingerprint: SAMPLE_FINGERPRINT,
  service: "active",
  pools: [{ name: "tank", size: 8e12, alloc: 2.1e12, free: 5.9e12, health: "ONLINE", exact: true }],
  datastores: [
    { name: "store1", path: "/mnt/datastore/tank/store1", usedBytes: 1.9e12, totalBytes: 7.7e12 },
  ],
  tasks: {
    lastBackup: { type: "backup", id: "store1:host/web1", time: 1_795_852_800, status: "OK" },
    lastGc: { type: "garbage_collection", id: "store1", time: 1_795_766_400, status: "OK" },
    running: [{ type: "verify", id: "store1", time: 1_795_856_400 }],
  },
};
