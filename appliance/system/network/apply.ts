import type { CommandRunner } from "../command-runner.js";
import { badInput, SystemError } from "../errors.js";
import { dhcp4Runs, leaseDhcp4, requireDhcpClient, stopDhcp4 } from "./dhcp-client.js";
import { type InterfaceConfig, validateInterfaces } from "./interfaces-file.js";
import { type LiveInterface, parseIpAddr, parseIpRoute } from "./ip-json.js";

export interface ApplyOptions {
  /** Run every `ip` command and the DHCP client inside this network namespace (`ip -n NS …`). */
  netns?: string;
  /** Seconds to wait for a DHCP lease (default 30). */
  dhcpTimeoutSeconds?: number;
}

const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** `ip` with the namespace prefix when one is given. */
function ipArgs(options: ApplyOptions, args: string[]): string[] {
  return options.netns === undefined ? args : ["-n", options.netns, ...args];
}

export async function liveInterfaces(
  runner: CommandRunner,
  options: ApplyOptions = {},
): Promise<LiveInterface[]> {
  checkNetns(options);
  const { stdout } = await runner.run("ip", ipArgs(options, ["-json", "addr", "show"]));
  return parseIpAddr(stdout);
}

function checkNetns(options: ApplyOptions): void {
  if (options.netns !== undefined && !NETNS_NAME.test(options.netns)) {
    throw badInput("netns", options.netns, "must be a namespace name");
  }
}

/**
 * Configures the live interfaces to match: addresses replaced, link up, default routes via the
 * gateways, a DHCP client for `method4: dhcp`. Everything is checked first (syntax, subnets,
 * interfaces present, DHCP client installed, no DHCPv6), so a refused configuration changes nothing.
 */
export async function applyInterfaces(
  runner: CommandRunner,
  configs: readonly InterfaceConfig[],
  options: ApplyOptions = {},
): Promise<void> {
  checkNetns(options);
  const managed = configs.filter((config) => config.name !== "lo");
  validateInterfaces(managed);
  const v6dhcp = managed.find((config) => config.method6 === "dhcp");
  if (v6dhcp) {
    throw new SystemError(
      "unsupported",
      `${v6dhcp.name}: DHCPv6 is applied by ifupdown, not live`,
      {
        interface: v6dhcp.name,
      },
    );
  }
  if (managed.some((config) => config.method4 === "dhcp")) await requireDhcpClient(runner);
  const live = new Map((await liveInterfaces(runner, options)).map((iface) => [iface.name, iface]));
  const missing = managed.find((config) => !live.has(config.name));
  if (missing) {
    throw new SystemError("not-found", `no interface ${missing.name}`, { interface: missing.name });
  }
  const ip = (args: string[]) => runner.run("ip", ipArgs(options, args));
  for (const config of managed) {
    if (config.method4 === "dhcp") {
      await applyDhcp4(runner, config, live.get(config.name)!, options);
      await ip(["-6", "addr", "flush", "dev", config.name, "scope", "global"]);
    } else {
      // A client left running would renew its lease over the static address.
      await stopDhcp4(runner, config.name, options);
      await ip(["addr", "flush", "dev", config.name, "scope", "global"]);
      if (config.cidr4 !== undefined) await ip(["addr", "add", config.cidr4, "dev", config.name]);
      await ip(["link", "set", config.name, config.autostart ? "up" : "down"]);
    }
    if (config.cidr6 !== undefined) await ip(["addr", "add", config.cidr6, "dev", config.name]);
    if (config.gateway4 !== undefined) {
      await ip(["-4", "route", "replace", "default", "via", config.gateway4, "dev", config.name]);
    }
    if (config.gateway6 !== undefined) {
      await ip(["-6", "route", "replace", "default", "via", config.gateway6, "dev", config.name]);
    }
  }
}

/**
 * IPv4 by DHCP on one interface. The old addresses stay until a lease arrives, so a failure leaves
 * the interface as it was (link state included); after the lease, static IPv4 addresses and
 * default routes not set by the client are removed. A client already running is kept as it is.
 */
async function applyDhcp4(
  runner: CommandRunner,
  config: InterfaceConfig,
  live: LiveInterface,
  options: ApplyOptions,
): Promise<void> {
  const ip = (args: string[]) => runner.run("ip", ipArgs(options, args));
  const dhcp = {
    ...(options.netns === undefined ? {} : { netns: options.netns }),
    ...(options.dhcpTimeoutSeconds === undefined
      ? {}
      : { timeoutSeconds: options.dhcpTimeoutSeconds }),
  };
  if (!config.autostart) {
    // Like ifupdown: an interface not brought up at boot gets no client either.
    await stopDhcp4(runner, config.name, dhcp);
    await ip(["-4", "addr", "flush", "dev", config.name, "scope", "global"]);
    await ip(["link", "set", config.name, "down"]);
    return;
  }
  const wasUp = live.flags.includes("UP");
  await ip(["link", "set", config.name, "up"]);
  if (await dhcp4Runs(runner, config.name, dhcp)) return;
  try {
    await leaseDhcp4(runner, config.name, dhcp);
  } catch (err) {
    if (!wasUp) await ip(["link", "set", config.name, "down"]).catch(() => {});
    throw err;
  }
  const now = (await liveInterfaces(runner, options)).find((iface) => iface.name === config.name);
  for (const address of now?.addresses ?? []) {
    if (address.family === 4 && address.scope === "global" && !address.dynamic) {
      await ip(["addr", "del", address.cidr, "dev", config.name]);
    }
  }
  const { stdout } = await ip(["-4", "-json", "route", "show", "default", "dev", config.name]);
  for (const route of parseIpRoute(stdout)) {
    if (route.protocol !== "dhcp" && route.gateway !== undefined) {
      await runner.run(
        "ip",
        ipArgs(options, [
          "-4",
          "route",
          "del",
          "default",
          "via",
          route.gateway,
          "dev",
          config.name,
        ]),
        { allowFailure: true },
      );
    }
  }
}
