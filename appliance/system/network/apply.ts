import type { CommandRunner } from "../command-runner.js";
import { badInput, SystemError } from "../errors.js";
import { type InterfaceConfig, validateInterfaces } from "./interfaces-file.js";
import { type LiveInterface, parseIpAddr } from "./ip-json.js";

export interface ApplyOptions {
  /** Run every `ip` command inside this network namespace (`ip -n NS …`). */
  netns?: string;
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
 * gateways. Everything is checked first (syntax, subnets, interfaces present, DHCP unsupported
 * here), so a refused configuration changes nothing.
 */
export async function applyInterfaces(
  runner: CommandRunner,
  configs: readonly InterfaceConfig[],
  options: ApplyOptions = {},
): Promise<void> {
  checkNetns(options);
  const managed = configs.filter((config) => config.name !== "lo");
  validateInterfaces(managed);
  for (const config of managed) {
    if (config.method4 === "dhcp" || config.method6 === "dhcp") {
      throw new SystemError(
        "unsupported",
        `${config.name}: DHCP is applied by ifupdown, not live`,
        {
          interface: config.name,
        },
      );
    }
  }
  const present = new Set((await liveInterfaces(runner, options)).map((iface) => iface.name));
  const missing = managed.find((config) => !present.has(config.name));
  if (missing) {
    throw new SystemError("not-found", `no interface ${missing.name}`, { interface: missing.name });
  }
  const ip = (args: string[]) => runner.run("ip", ipArgs(options, args));
  for (const config of managed) {
    await ip(["addr", "flush", "dev", config.name, "scope", "global"]);
    for (const cidr of [config.cidr4, config.cidr6]) {
      if (cidr !== undefined) await ip(["addr", "add", cidr, "dev", config.name]);
    }
    await ip(["link", "set", config.name, config.autostart ? "up" : "down"]);
    if (config.gateway4 !== undefined) {
      await ip(["-4", "route", "replace", "default", "via", config.gateway4, "dev", config.name]);
    }
    if (config.gateway6 !== undefined) {
      await ip(["-6", "route", "replace", "default", "via", config.gateway6, "dev", config.name]);
    }
  }
}
