import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { execaRunner } from "../../appliance/system/command-runner.js";
import { applyInterfaces, liveInterfaces } from "../../appliance/system/network/apply.js";
import { inSubnet, isFqdn, parseCidr } from "../../appliance/system/network/cidr.js";
import {
  readDns,
  readHostname,
  readTimezone,
  writeDns,
  writeHostname,
  writeTimezone,
} from "../../appliance/system/network/host-files.js";
import {
  type InterfaceConfig,
  parseInterfaces,
  renderInterfaces,
  validateInterfaces,
} from "../../appliance/system/network/interfaces-file.js";
import { parseIpRoute } from "../../appliance/system/network/ip-json.js";
import { NetworkConfigFiles } from "../../appliance/system/network/network-config.js";
import { canRun, quietly, RecordingRunner, scratchDir, uniqueName } from "./helpers.js";

const netnsHere = canRun("ip", ["netns", "list"]);
const real = netnsHere ? test.serial : test.skip;

const STATIC: InterfaceConfig = {
  name: "eth0",
  autostart: true,
  method4: "static",
  cidr4: "192.0.2.10/24",
  gateway4: "192.0.2.1",
  method6: "static",
  cidr6: "2001:db8::10/64",
  gateway6: "2001:db8::1",
};

test("CIDR, subnets and names", (t) => {
  t.deepEqual(parseCidr("192.0.2.10/24"), { family: 4, address: "192.0.2.10", prefix: 24 });
  t.true(inSubnet(parseCidr("192.0.2.10/24"), "192.0.2.254"));
  t.false(inSubnet(parseCidr("192.0.2.10/24"), "192.0.3.1"));
  t.true(inSubnet(parseCidr("2001:db8::10/64"), "2001:db8::ffff:1"));
  t.false(inSubnet(parseCidr("2001:db8::10/64"), "2001:db9::1"));
  t.true(inSubnet(parseCidr("::ffff:192.0.2.1/120"), "::ffff:192.0.2.77"));
  for (const bad of ["192.0.2.10", "192.0.2.300/24", "192.0.2.1/33", "2001:db8::1/129", "x/8"]) {
    t.throws(() => parseCidr(bad), { code: "CAIRN_E_SYSTEM_BAD_INPUT" }, bad);
  }
  t.true(isFqdn("pbs.example.com"));
  t.false(isFqdn("pbs"));
  t.false(isFqdn("-x.example.com"));
});

test("interfaces: render, parse back, validation", (t) => {
  const dhcp: InterfaceConfig = { name: "eth1", autostart: false, method4: "dhcp" };
  const text = renderInterfaces([STATIC, dhcp]);
  t.regex(
    text,
    /auto eth0\niface eth0 inet static\n\taddress 192\.0\.2\.10\/24\n\tgateway 192\.0\.2\.1/,
  );
  t.regex(text, /iface eth0 inet6 static\n\taddress 2001:db8::10\/64/);
  t.regex(text, /iface eth1 inet dhcp/);
  t.deepEqual(
    parseInterfaces(text).filter((c) => c.name !== "lo"),
    [STATIC, dhcp],
  );
  const debian =
    "source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n\nallow-hotplug ens3\niface ens3 inet static\n\taddress 10.0.0.5/8\n\tmtu 9000\n";
  t.deepEqual(parseInterfaces(debian)[1], {
    name: "ens3",
    autostart: true,
    method4: "static",
    cidr4: "10.0.0.5/8",
    options: ["mtu 9000"],
  });
  t.throws(() => parseInterfaces("iface e inet static\n\tnetmask 255.0.0.0\n"), {
    message: /prefix/,
  });

  const bad: [InterfaceConfig[], RegExp][] = [
    [[{ ...STATIC, gateway4: "198.51.100.1" }], /gateway4.*inside 192\.0\.2\.10\/24/],
    [[{ ...STATIC, cidr4: "192.0.2.10" }], /\/prefix/],
    [[{ ...STATIC, cidr4: "2001:db8::5/64" }], /must be IPv4/],
    [[{ name: "eth0", autostart: true, method4: "static" }], /needs an address/],
    [[STATIC, { ...STATIC }], /configured twice/],
    [
      [STATIC, { name: "eth1", autostart: true, method4: "static", cidr4: "192.0.2.10/24" }],
      /already configured on eth0/,
    ],
    [[{ ...STATIC, name: "eth0; rm -rf" }], /interface/],
  ];
  for (const [configs, message] of bad) {
    t.throws(() => validateInterfaces(configs), { code: "CAIRN_E_SYSTEM_BAD_INPUT", message });
  }
});

test("hostname, hosts, DNS and timezone under a root directory", async (t) => {
  const root = scratchDir(t, "cairn-root-");
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc/hosts"), "127.0.0.1 localhost\n10.0.0.9 old.example.com old\n");
  await writeHostname(root, "cairn.example.com", "192.0.2.10");
  await writeHostname(root, "cairn.example.com", "192.0.2.11");
  t.is(await readHostname(root), "cairn");
  t.is(
    readFileSync(join(root, "etc/hosts"), "utf8"),
    "127.0.0.1 localhost\n10.0.0.9 old.example.com old\n192.0.2.11 cairn.example.com cairn\n",
  );
  await t.throwsAsync(writeHostname(root, "cairn", "192.0.2.1"), { message: /fully qualified/ });

  await writeDns(root, { search: "example.com", dns1: "192.0.2.53", dns2: "2001:db8::53" });
  t.deepEqual(await readDns(root), {
    search: "example.com",
    dns1: "192.0.2.53",
    dns2: "2001:db8::53",
  });
  await t.throwsAsync(writeDns(root, { dns1: "ns.example.com" }), { message: /IP address/ });

  mkdirSync(join(root, "usr/share/zoneinfo/Europe"), { recursive: true });
  writeFileSync(join(root, "usr/share/zoneinfo/Europe/Vienna"), "TZif");
  t.is(await readTimezone(root), "UTC");
  await writeTimezone(root, "Europe/Vienna");
  t.is(await readTimezone(root), "Europe/Vienna");
  await t.throwsAsync(writeTimezone(root, "Mars/Olympus"), { message: /not an installed/ });
  await t.throwsAsync(writeTimezone(root, "../../etc/passwd"), { message: /zone name/ });
});

test("staging: stage, pending, revert, commit, restore previous", async (t) => {
  const files = new NetworkConfigFiles(scratchDir(t, "cairn-net-"));
  t.deepEqual(await files.current(), []);
  await files.stage(STATIC);
  t.is((await files.pending())?.find((c) => c.name === "eth0")?.cidr4, "192.0.2.10/24");
  t.deepEqual(await files.current(), [], "staging leaves the live file alone");
  await files.revert();
  t.is(await files.pending(), undefined);
  await files.stage(STATIC);
  await files.commit();
  await files.stage({ ...STATIC, cidr4: "192.0.2.20/24" });
  await files.commit();
  t.is((await files.current()).find((c) => c.name === "eth0")?.cidr4, "192.0.2.20/24");
  await files.restorePrevious();
  t.is((await files.current()).find((c) => c.name === "eth0")?.cidr4, "192.0.2.10/24");
  await t.throwsAsync(files.stage({ ...STATIC, gateway4: "10.0.0.1" }), {
    code: "CAIRN_E_SYSTEM_BAD_INPUT",
  });
});

test("a refused configuration runs no ip command", async (t) => {
  const runner = new RecordingRunner();
  await t.throwsAsync(
    applyInterfaces(runner, [{ ...STATIC, gateway4: "10.0.0.1" }], { netns: "x" }),
  );
  await t.throwsAsync(applyInterfaces(runner, [STATIC], { netns: "bad ns" }), { message: /netns/ });
  t.deepEqual(runner.calls, []);
});

real(
  "apply in a network namespace: address and routes appear; bad config changes nothing; restore",
  async (t) => {
    const ns = uniqueName("cns");
    execFileSync("ip", ["netns", "add", ns]);
    t.teardown(() => quietly("ip", ["netns", "delete", ns]));
    // Both ends of the pair live in the namespace, so the host's interfaces are never touched.
    execFileSync("ip", ["-n", ns, "link", "add", "ceth0", "type", "veth", "peer", "name", "ceth1"]);
    execFileSync("ip", ["-n", ns, "link", "set", "ceth1", "up"]);
    const config: InterfaceConfig = { ...STATIC, name: "ceth0" };
    const files = new NetworkConfigFiles(scratchDir(t, "cairn-netns-"));
    await files.stage(config);
    const applied = await files.commit();
    await applyInterfaces(execaRunner, applied, { netns: ns });

    const addresses = async () =>
      (await liveInterfaces(execaRunner, { netns: ns }))
        .find((i) => i.name === "ceth0")!
        .addresses.filter((a) => a.scope === "global")
        .map((a) => a.cidr);
    const routes = (family: string) =>
      parseIpRoute(
        execFileSync("ip", ["-n", ns, family, "-json", "route", "show"], { encoding: "utf8" }),
      );
    t.deepEqual(await addresses(), ["192.0.2.10/24", "2001:db8::10/64"]);
    t.like(
      routes("-4").find((r) => r.dst === "default"),
      { gateway: "192.0.2.1", dev: "ceth0" },
    );
    t.like(
      routes("-6").find((r) => r.dst === "default"),
      { gateway: "2001:db8::1", dev: "ceth0" },
    );

    await t.throwsAsync(
      applyInterfaces(execaRunner, [{ ...config, cidr4: "198.51.100.7/24" }], { netns: ns }),
      { code: "CAIRN_E_SYSTEM_BAD_INPUT", message: /gateway4/ },
    );
    await t.throwsAsync(
      applyInterfaces(execaRunner, [{ ...config, name: "nosuch0" }], { netns: ns }),
      { code: "CAIRN_E_SYSTEM_NOT_FOUND" },
    );
    t.deepEqual(await addresses(), ["192.0.2.10/24", "2001:db8::10/64"], "nothing changed");

    await files.stage({
      ...config,
      cidr4: "198.51.100.7/24",
      gateway4: "198.51.100.1",
      method6: undefined,
      cidr6: undefined,
      gateway6: undefined,
    });
    await applyInterfaces(execaRunner, await files.commit(), { netns: ns });
    t.deepEqual(await addresses(), ["198.51.100.7/24"]);
    t.like(
      routes("-4").find((r) => r.dst === "default"),
      { gateway: "198.51.100.1" },
    );

    await applyInterfaces(execaRunner, await files.restorePrevious(), { netns: ns });
    t.deepEqual(await addresses(), ["192.0.2.10/24", "2001:db8::10/64"]);
    t.like(
      routes("-4").find((r) => r.dst === "default"),
      { gateway: "192.0.2.1" },
    );
  },
);
