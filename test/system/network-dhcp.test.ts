import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { execaRunner } from "../../appliance/system/command-runner.js";
import { applyInterfaces } from "../../appliance/system/network/apply.js";
import { dhcp4Runs, stopDhcp4 } from "../../appliance/system/network/dhcp-client.js";
import type { InterfaceConfig } from "../../appliance/system/network/interfaces-file.js";
import { parseIpAddr, parseIpRoute } from "../../appliance/system/network/ip-json.js";
import { canRun, quietly, RecordingRunner, scratchDir, uniqueName } from "./helpers.js";

const ready =
  canRun("ip", ["netns", "list"]) &&
  canRun("dhcpcd", ["--version"]) &&
  canRun("dnsmasq", ["--version"]);
const real = ready ? test.serial : test.skip;

const ROUTER = "198.51.100.1";
const STATIC: Omit<InterfaceConfig, "name"> = {
  autostart: true,
  method4: "static",
  cidr4: "192.0.2.10/24",
  gateway4: "192.0.2.1",
};

test("DHCP config: client missing or DHCPv6 refused before any change; netns runs the client there", async (t) => {
  const eth0 = JSON.stringify([
    { ifindex: 2, ifname: "eth0", flags: ["UP"], operstate: "UP", addr_info: [] },
  ]);
  const missing = new RecordingRunner((command) => (command === "dhcpcd" ? { exitCode: 127 } : {}));
  await t.throwsAsync(
    applyInterfaces(missing, [{ name: "eth0", autostart: true, method4: "dhcp" }]),
    { code: "CAIRN_E_SYSTEM_UNSUPPORTED", message: /dhcpcd-base/ },
  );
  t.deepEqual(missing.of("ip"), [], "nothing applied without a client");
  await t.throwsAsync(
    applyInterfaces(missing, [{ name: "eth0", autostart: true, method6: "dhcp" }]),
    { code: "CAIRN_E_SYSTEM_UNSUPPORTED", message: /eth0: DHCPv6/ },
  );

  const runner = new RecordingRunner((command, args) =>
    command === "ip" && args.includes("addr") && args.includes("-json") ? { stdout: eth0 } : {},
  );
  await applyInterfaces(runner, [{ name: "eth0", autostart: true, method4: "dhcp" }], {
    netns: "ns1",
    dhcpTimeoutSeconds: 7,
  });
  const start = runner.calls.find((call) => call.includes("-w"));
  t.deepEqual(start, [
    "ip",
    ...["netns", "exec", "ns1", "dhcpcd", "-4", "-w", "-t", "7", "-L", "-c", "/bin/true", "eth0"],
  ]);
  t.true(
    runner.calls.some((call) => call.join(" ") === "ip -n ns1 link set eth0 up"),
    "link brought up in the namespace",
  );
  await t.throwsAsync(
    applyInterfaces(runner, [{ name: "eth0", autostart: true, method4: "dhcp" }], {
      dhcpTimeoutSeconds: 0,
    }),
    { code: "CAIRN_E_SYSTEM_BAD_INPUT", message: /timeout/ },
  );
});

/** A fresh namespace, deleted in teardown even when the test fails. */
function namespace(t: ExecutionContext, prefix: string): string {
  const ns = uniqueName(prefix);
  execFileSync("ip", ["netns", "add", ns]);
  t.teardown(() => quietly("ip", ["netns", "delete", ns]));
  return ns;
}

/** Client and server namespaces joined by a veth pair; the host's interfaces are never touched. */
function joined(t: ExecutionContext): { client: string; server: string; iface: string } {
  const client = namespace(t, "cdc");
  const server = namespace(t, "cds");
  // Unique names: dhcpcd keeps its pid files in the host's /run, shared by every namespace.
  const iface = uniqueName("d");
  const peer = `${iface}p`;
  execFileSync("ip", [
    ...["link", "add", iface, "netns", client, "type", "veth"],
    ...["peer", "name", peer, "netns", server],
  ]);
  execFileSync("ip", ["-n", server, "addr", "add", `${ROUTER}/24`, "dev", peer]);
  execFileSync("ip", ["-n", server, "link", "set", peer, "up"]);
  return { client, server, iface };
}

/** dnsmasq in the foreground inside the server namespace, killed in teardown. */
async function dhcpServer(
  t: ExecutionContext,
  server: string,
  iface: string,
): Promise<{ leases: string; log: () => string }> {
  const dir = scratchDir(t, "cairn-dhcp-");
  const leases = join(dir, "leases");
  let log = "";
  const child: ChildProcess = spawn(
    "ip",
    [
      ...["netns", "exec", server, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null"],
      "--port=0",
      `--interface=${iface}p`,
      "--bind-interfaces",
      "--dhcp-range=198.51.100.50,198.51.100.99,255.255.255.0,1h",
      `--dhcp-option=3,${ROUTER}`,
      `--dhcp-leasefile=${leases}`,
      `--pid-file=${join(dir, "pid")}`,
      "--user=root",
      "--log-facility=-",
      "--log-dhcp",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (chunk) => (log += chunk));
  child.stderr?.on("data", (chunk) => (log += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  t.teardown(async () => {
    child.kill("SIGTERM");
    await exited;
  });
  await until(() => /DHCP, IP range/.test(log) || child.exitCode !== null, "dnsmasq start");
  if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${log}`);
  return { leases, log: () => log };
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

function globalV4(ns: string, iface: string) {
  const json = execFileSync("ip", ["-n", ns, "-json", "addr", "show", "dev", iface], {
    encoding: "utf8",
  });
  return parseIpAddr(json)[0]!.addresses.filter((a) => a.family === 4 && a.scope === "global");
}

function defaultRoute(ns: string) {
  const json = execFileSync("ip", ["-n", ns, "-4", "-json", "route", "show"], { encoding: "utf8" });
  return parseIpRoute(json).filter((route) => route.dst === "default");
}

real("DHCP applied live in a namespace; back to static stops the client", async (t) => {
  t.timeout(300_000);
  const { client, server, iface } = joined(t);
  const { leases, log } = await dhcpServer(t, server, iface);
  const runner = execaRunner;
  t.teardown(() => stopDhcp4(runner, iface, { netns: client }));
  const netns = { netns: client, dhcpTimeoutSeconds: 90 };

  await applyInterfaces(runner, [{ name: iface, ...STATIC }], netns);
  t.deepEqual(
    globalV4(client, iface).map((a) => a.cidr),
    ["192.0.2.10/24"],
  );
  const dhcp: InterfaceConfig = { name: iface, autostart: true, method4: "dhcp" };
  await applyInterfaces(runner, [dhcp], netns).catch((err) => {
    t.log(log());
    throw err;
  });

  const addresses = globalV4(client, iface);
  t.is(addresses.length, 1, "the lease replaced the static address");
  const [leased, prefix] = addresses[0]!.cidr.split("/");
  t.is(prefix, "24");
  const host = Number(leased!.split(".")[3]);
  t.true(leased!.startsWith("198.51.100.") && host >= 50 && host <= 99, `${leased} from the range`);
  t.true(addresses[0]!.dynamic, "a leased address");
  t.deepEqual(
    defaultRoute(client).map((r) => [r.gateway, r.dev]),
    [[ROUTER, iface]],
    "default route via the router option, the static gateway gone",
  );
  t.true(await dhcp4Runs(runner, iface, { netns: client }), "the client stays to renew");
  await until(() => existsSync(leases) && readFileSync(leases, "utf8").includes(leased!), "lease");

  await applyInterfaces(runner, [dhcp], netns);
  t.deepEqual(
    globalV4(client, iface).map((a) => a.cidr),
    [`${leased}/24`],
    "applying DHCP again keeps the running client and its lease",
  );

  await applyInterfaces(runner, [{ name: iface, ...STATIC, cidr4: "192.0.2.20/24" }], netns);
  t.false(await dhcp4Runs(runner, iface, { netns: client }), "client stopped");
  t.deepEqual(
    globalV4(client, iface).map((a) => a.cidr),
    ["192.0.2.20/24"],
  );
  t.deepEqual(
    defaultRoute(client).map((r) => r.gateway),
    ["192.0.2.1"],
  );
  await until(() => !readFileSync(leases, "utf8").includes(leased!), "lease released");
});

real("no DHCP server: a clear error and the interface left as it was", async (t) => {
  t.timeout(300_000);
  const { client, iface } = joined(t);
  const runner = execaRunner;
  t.teardown(() => stopDhcp4(runner, iface, { netns: client }));
  await applyInterfaces(runner, [{ name: iface, ...STATIC }], { netns: client });

  await t.throwsAsync(
    applyInterfaces(runner, [{ name: iface, autostart: true, method4: "dhcp" }], {
      netns: client,
      dhcpTimeoutSeconds: 5,
    }),
    {
      code: "CAIRN_E_SYSTEM_APPLY_FAILED",
      message: new RegExp(`^${iface}: no DHCP lease within 5 s`),
    },
  );
  t.deepEqual(
    globalV4(client, iface).map((a) => a.cidr),
    ["192.0.2.10/24"],
  );
  t.deepEqual(
    defaultRoute(client).map((r) => [r.gateway, r.dev]),
    [["192.0.2.1", iface]],
  );
  t.false(await dhcp4Runs(runner, iface, { netns: client }), "no client left behind");
});
