import { cpus, totalmem } from "node:os";
import type { CommandRunner } from "../system/command-runner.js";
import { type DiskInfo, Disks } from "../system/disks/disks.js";
import { liveInterfaces } from "../system/network/apply.js";
import { type DnsConfig, readDns, readHostname } from "../system/network/host-files.js";
import { type LiveInterface, parseIpRoute } from "../system/network/ip-json.js";
import { NetworkConfigFiles } from "../system/network/network-config.js";
import {
  bestCompression,
  compressionSupported,
  detectZfsCapabilities,
  type ZfsCapabilities,
} from "../system/zfs/capabilities.js";
import { VERSION } from "../version.js";
import type { NetworkPlan, SetupFacts } from "./plan.js";

/** What the first-boot screens show and pre-fill, read once at start. */
export interface SetupEnvironment {
  version: string;
  cpu: { model: string; count: number };
  memoryBytes: number;
  disks: DiskInfo[];
  /** Every interface but loopback. */
  interfaces: LiveInterface[];
  capabilities: ZfsCapabilities;
  /** The network as the machine has it now, for pre-filling. */
  network: NetworkPlan;
}

export interface DetectOptions {
  root: string;
  netns?: string;
  diskTypes?: string[];
}

/** Reads hardware, the current network and ZFS's features through the system layer. */
export async function detectEnvironment(
  runner: CommandRunner,
  options: DetectOptions,
): Promise<SetupEnvironment> {
  const netns = options.netns === undefined ? {} : { netns: options.netns };
  const interfaces = (await liveInterfaces(runner, netns)).filter(
    (iface) => iface.linkType !== "loopback" && iface.name !== "lo",
  );
  const disks = await new Disks(runner).list(options.diskTypes ? { types: options.diskTypes } : {});
  const capabilities = await detectZfsCapabilities(runner);
  const cpuList = cpus();
  return {
    version: VERSION,
    cpu: { model: cpuList[0]?.model.trim() ?? "unknown", count: cpuList.length },
    memoryBytes: totalmem(),
    disks,
    interfaces,
    capabilities,
    network: await currentNetwork(runner, options, interfaces),
  };
}

async function defaultGateway(runner: CommandRunner, netns?: string): Promise<string | undefined> {
  const prefix = netns === undefined ? [] : ["-n", netns];
  const result = await runner
    .run("ip", [...prefix, "-json", "route", "show", "default"], { allowFailure: true })
    .catch(() => undefined);
  if (result?.exitCode !== 0) return undefined;
  return parseIpRoute(result.stdout).find((route) => route.gateway)?.gateway;
}

/** The configured interface (else the first with a link), its method, address and names. */
async function currentNetwork(
  runner: CommandRunner,
  options: DetectOptions,
  interfaces: LiveInterface[],
): Promise<NetworkPlan> {
  const configured = await new NetworkConfigFiles(options.root).current().catch(() => []);
  const config = configured.find((entry) => interfaces.some((live) => live.name === entry.name));
  const live =
    interfaces.find((iface) => iface.name === config?.name) ??
    interfaces.find((iface) => iface.state === "UP") ??
    interfaces[0];
  const liveAddress = live?.addresses.find((a) => a.family === 4 && a.scope === "global")?.cidr;
  const dns = await readDns(options.root).catch((): DnsConfig => ({}));
  const host = (await readHostname(options.root).catch(() => "")) || "cairn";
  const domain = dns.search ?? "localdomain";
  const method = config?.method4 === "static" ? "static" : "dhcp";
  const address = config?.cidr4 ?? liveAddress;
  const gateway = config?.gateway4 ?? (await defaultGateway(runner, options.netns));
  return {
    interface: live?.name ?? "",
    method,
    ...(address ? { address } : {}),
    ...(gateway ? { gateway } : {}),
    dns: [dns.dns1, dns.dns2, dns.dns3].filter((server): server is string => server !== undefined),
    fqdn: host.includes(".") ? host : `${host}.${domain}`,
  };
}

/** The facts plans are validated against. */
export function factsOf(environment: SetupEnvironment): SetupFacts {
  return {
    disks: environment.disks,
    interfaces: environment.interfaces.map((iface) => iface.name),
    compressionSupported: (value) => compressionSupported(environment.capabilities, value),
  };
}

export function defaultCompression(environment: SetupEnvironment): string {
  return bestCompression(environment.capabilities);
}
