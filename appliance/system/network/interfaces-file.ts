import { badInput, SystemError } from "../errors.js";
import { type Cidr, formatCidr, inSubnet, parseCidr } from "./cidr.js";

export type Method = "static" | "dhcp" | "manual";

/** One interface as `/etc/network/interfaces` configures it (bonds and VLANs later). */
export interface InterfaceConfig {
  name: string;
  autostart: boolean;
  method4?: Method;
  cidr4?: string;
  gateway4?: string;
  method6?: Method;
  cidr6?: string;
  gateway6?: string;
  /** Option lines Cairn keeps but does not interpret (mtu 9000, dns-nameservers …). */
  options?: string[];
}

const IFACE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;

/**
 * Checks one interface: name, CIDR syntax per family, gateways inside the configured subnet,
 * static methods with an address.
 */
export function validateInterface(config: InterfaceConfig): InterfaceConfig {
  if (!IFACE_NAME.test(config.name)) {
    throw badInput("interface", config.name, "must be a name like eth0 (at most 15 characters)");
  }
  for (const family of [4, 6] as const) {
    const method = config[`method${family}`];
    const cidrText = config[`cidr${family}`];
    const gateway = config[`gateway${family}`];
    let cidr: Cidr | undefined;
    if (cidrText !== undefined) {
      cidr = parseCidr(cidrText, `cidr${family}`);
      if (cidr.family !== family) throw badInput(`cidr${family}`, cidrText, `must be IPv${family}`);
      if (method !== "static") throw badInput(`cidr${family}`, cidrText, "needs method static");
    }
    if (method === "static" && cidr === undefined) {
      throw badInput(`method${family}`, method, "static needs an address (cidr)");
    }
    if (gateway !== undefined && (cidr === undefined || !inSubnet(cidr, gateway))) {
      throw badInput(
        `gateway${family}`,
        gateway,
        `must lie inside ${cidrText ?? "a configured subnet"}`,
      );
    }
  }
  return config;
}

/** Checks a whole configuration: each interface, no name twice, no address twice. */
export function validateInterfaces(configs: readonly InterfaceConfig[]): void {
  const names = new Set<string>();
  const addresses = new Map<string, string>();
  for (const config of configs) {
    validateInterface(config);
    if (names.has(config.name)) throw badInput("interface", config.name, "is configured twice");
    names.add(config.name);
    for (const cidr of [config.cidr4, config.cidr6]) {
      if (cidr === undefined) continue;
      const address = parseCidr(cidr).address;
      const owner = addresses.get(address);
      if (owner !== undefined) {
        throw badInput("address", address, `is already configured on ${owner}`);
      }
      addresses.set(address, config.name);
    }
  }
}

/** Stanzas in order; lines Cairn does not understand are refused rather than dropped. */
export function parseInterfaces(text: string): InterfaceConfig[] {
  const configs = new Map<string, InterfaceConfig>();
  const auto = new Set<string>();
  let current: { config: InterfaceConfig; family: 4 | 6 } | undefined;
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [keyword = "", ...words] = line.split(/\s+/);
    const fail = (why: string) =>
      new SystemError("parse-failed", `interfaces line ${index + 1}: ${why}`, { line: raw });
    if (keyword === "auto" || keyword === "allow-hotplug") {
      for (const name of words) auto.add(name);
      current = undefined;
    } else if (keyword === "source" || keyword === "source-directory") {
      current = undefined;
    } else if (keyword === "iface") {
      const [name, family, method] = words;
      if (!name || (family !== "inet" && family !== "inet6") || !method) {
        throw fail("expected 'iface NAME inet|inet6 METHOD'");
      }
      if (
        method !== "static" &&
        method !== "dhcp" &&
        method !== "manual" &&
        method !== "loopback"
      ) {
        throw fail(`unsupported method ${method}`);
      }
      const config = configs.get(name) ?? { name, autostart: false };
      configs.set(name, config);
      const fam = family === "inet" ? 4 : 6;
      if (method !== "loopback") config[`method${fam}`] = method;
      current = { config, family: fam };
    } else if (current && (keyword === "address" || keyword === "gateway")) {
      const value = words[0] ?? "";
      if (keyword === "address") current.config[`cidr${current.family}`] = value;
      else current.config[`gateway${current.family}`] = value;
    } else if (current && keyword === "netmask") {
      throw fail("netmask lines are not supported; write the address with a /prefix");
    } else if (current) {
      current.config.options = [...(current.config.options ?? []), [keyword, ...words].join(" ")];
    } else {
      throw fail(`unexpected ${keyword}`);
    }
  }
  return [...configs.values()].map((config) => ({ ...config, autostart: auto.has(config.name) }));
}

/** The file for these interfaces, after validation; the loopback stanza always comes first. */
export function renderInterfaces(configs: readonly InterfaceConfig[]): string {
  validateInterfaces(configs.filter((config) => config.name !== "lo"));
  const out = [
    "# Written by Cairn; changes staged through the API are kept in interfaces.new.",
    "",
  ];
  out.push("auto lo", "iface lo inet loopback", "");
  for (const config of configs) {
    if (config.name === "lo") continue;
    if (config.autostart) out.push(`auto ${config.name}`);
    let first = true;
    for (const family of [4, 6] as const) {
      const method = config[`method${family}`];
      if (method === undefined) continue;
      out.push(`iface ${config.name} ${family === 4 ? "inet" : "inet6"} ${method}`);
      const cidr = config[`cidr${family}`];
      if (cidr !== undefined) out.push(`\taddress ${formatCidr(parseCidr(cidr))}`);
      const gateway = config[`gateway${family}`];
      if (gateway !== undefined) out.push(`\tgateway ${gateway}`);
      if (first) for (const line of config.options ?? []) out.push(`\t${line}`);
      first = false;
    }
    out.push("");
  }
  return out.join("\n");
}
