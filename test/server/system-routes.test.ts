import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { systemRoutes } from "../../appliance/server/routes/system.js";
import { RecordingRunner, scratchDir } from "../system/helpers.js";
import { api } from "./helpers/client.js";
import { tokenHeader } from "./helpers/stand-in-access.js";
import { startTestServer } from "./helpers/test-server.js";

interface BadRequest {
  method: string;
  path: string;
  body?: Record<string, unknown>;
  status: number;
  /** The parameter the answer must name, in its message and (for 400) in `errors`. */
  names: string;
}

const NODE = "/api2/json/nodes/localhost";
const zfs = (fields: Record<string, unknown>) => ({
  method: "POST",
  path: `${NODE}/disks/zfs`,
  body: { name: "tank", devices: "sdb", raidlevel: "single", ...fields },
  status: 400,
});

/** Requests a caller may send by mistake or on purpose; none of them may run a program. */
const BAD_REQUESTS: BadRequest[] = [
  { method: "GET", path: `${NODE}/disks/list?usage-type=bogus`, status: 400, names: "usage-type" },
  {
    method: "GET",
    path: `${NODE}/disks/list?include-partitions=maybe`,
    status: 400,
    names: "include-partitions",
  },
  { method: "GET", path: `${NODE}/disks/list?shell=1`, status: 400, names: "shell" },
  { method: "GET", path: `${NODE}/disks/smart`, status: 400, names: "disk" },
  { method: "GET", path: `${NODE}/disks/smart?disk=..%2Fetc%2Fpasswd`, status: 400, names: "disk" },
  { method: "GET", path: `${NODE}/disks/smart?disk=sd%20a`, status: 400, names: "disk" },
  {
    method: "PUT",
    path: `${NODE}/disks/wipedisk`,
    body: { disk: "/dev/../etc/passwd" },
    status: 400,
    names: "disk",
  },
  {
    method: "PUT",
    path: `${NODE}/disks/wipedisk`,
    body: { disk: "sdb; rm -rf /" },
    status: 400,
    names: "disk",
  },
  {
    method: "PUT",
    path: `${NODE}/disks/wipedisk`,
    body: { disk: ["sdb"] },
    status: 400,
    names: "disk",
  },
  { method: "POST", path: `${NODE}/disks/initgpt`, body: {}, status: 400, names: "disk" },
  {
    method: "POST",
    path: `${NODE}/disks/initgpt`,
    body: { disk: "$(reboot)" },
    status: 400,
    names: "disk",
  },
  { ...zfs({ raidlevel: "raid7" }), names: "raidlevel" },
  { ...zfs({ name: "-o" }), names: "name" },
  { ...zfs({ devices: "" }), names: "devices" },
  { ...zfs({ devices: "sdb,../x" }), names: "devices" },
  { ...zfs({ ashift: 20 }), names: "ashift" },
  { ...zfs({ compression: "brotli" }), names: "compression" },
  { ...zfs({ "add-datastore": "perhaps" }), names: "add-datastore" },
  { ...zfs({ mountpoint: "/" }), names: "mountpoint" },
  { method: "GET", path: `${NODE}/disks/zfs/a%20b`, status: 400, names: "name" },
  { method: "GET", path: `${NODE}/network/0eth`, status: 400, names: "iface" },
  {
    method: "PUT",
    path: `${NODE}/network/eth0`,
    body: { method: "bogus" },
    status: 400,
    names: "method",
  },
  {
    method: "PUT",
    path: `${NODE}/network/eth0`,
    body: { cidr: "x".repeat(100) },
    status: 400,
    names: "cidr",
  },
  {
    method: "PUT",
    path: `${NODE}/network/eth0`,
    body: { autostart: "maybe" },
    status: 400,
    names: "autostart",
  },
  {
    method: "PUT",
    path: `${NODE}/network/eth0`,
    body: { bridge_ports: "eth1" },
    status: 400,
    names: "bridge_ports",
  },
  { method: "DELETE", path: `${NODE}/network/eth0%3Bx`, status: 400, names: "iface" },
  { method: "PUT", path: `${NODE}/dns`, body: { dns1: 5 }, status: 400, names: "dns1" },
  {
    method: "PUT",
    path: `${NODE}/dns`,
    body: { dns1: "not-an-address" },
    status: 400,
    names: "dns1",
  },
  {
    method: "PUT",
    path: `${NODE}/dns`,
    body: { search: "a".repeat(300) },
    status: 400,
    names: "search",
  },
  {
    method: "PUT",
    path: `${NODE}/dns`,
    body: { search: "bad domain" },
    status: 400,
    names: "search",
  },
  { method: "PUT", path: `${NODE}/time`, body: {}, status: 400, names: "timezone" },
  {
    method: "PUT",
    path: `${NODE}/time`,
    body: { timezone: "../../etc/passwd" },
    status: 400,
    names: "timezone",
  },
  { method: "GET", path: "/api2/json/nodes/elsewhere/disks/list", status: 404, names: "elsewhere" },
  { method: "PUT", path: "/api2/json/nodes/elsewhere/network", status: 404, names: "elsewhere" },
];

test("every bad request to the disk and network routes gets a 4xx naming the parameter and runs nothing", async (t) => {
  const root = scratchDir(t, "cairn-system-routes-");
  await mkdir(join(root, "sysroot", "etc"), { recursive: true });
  const runner = new RecordingRunner();
  const server = await startTestServer({
    root,
    systemRoutes: (services) =>
      systemRoutes(services, {
        runner,
        root: join(root, "sysroot"),
        mountRoot: join(root, "mnt"),
      }),
  });
  t.teardown(() => server.stop());
  for (const bad of BAD_REQUESTS) {
    const label = `${bad.method} ${bad.path} ${JSON.stringify(bad.body ?? {})}`;
    const answer = await api(server.port, bad.method, bad.path, {
      headers: tokenHeader("root@pam"),
      ...(bad.body !== undefined && { body: bad.body }),
    });
    t.is(answer.status, bad.status, `${label}: ${answer.body.toString()}`);
    t.true(String(answer.json?.message).includes(bad.names), `${label}: ${answer.json?.message}`);
    if (bad.status === 400 && answer.json?.errors !== undefined) {
      // a list item is named with its index, e.g. devices.0
      const named = Object.keys(answer.json.errors).some(
        (key) => key === bad.names || key.startsWith(`${bad.names}.`),
      );
      t.true(named, `${label}: ${JSON.stringify(answer.json.errors)}`);
    }
    t.deepEqual(runner.calls, [], label);
  }
});

test("applying without staged changes is a 404 and runs nothing", async (t) => {
  const root = scratchDir(t, "cairn-system-routes-");
  const runner = new RecordingRunner();
  const server = await startTestServer({
    root,
    systemRoutes: (services) => systemRoutes(services, { runner, root: join(root, "sysroot") }),
  });
  t.teardown(() => server.stop());
  const answer = await api(server.port, "PUT", `${NODE}/network`, {
    headers: tokenHeader("root@pam"),
  });
  t.is(answer.status, 404);
  t.is(answer.json.message, "no staged network changes");
  t.deepEqual(runner.calls, []);
});
