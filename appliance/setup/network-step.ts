import type { CommandRunner } from "../system/command-runner.js";
import { applyInterfaces, liveInterfaces } from "../system/network/apply.js";
import { writeDns, writeHostname } from "../system/network/host-files.js";
import type { InterfaceConfig } from "../system/network/interfaces-file.js";
import { NetworkConfigFiles } from "../system/network/network-config.js";
import { type NetworkPlan, staticAddress } from "./plan.js";

export interface NetworkTarget {
  runner: CommandRunner;
  /** The system root the host files are written below ("/" on the appliance). */
  root: string;
  /** Apply live changes inside this namespace (tests). */
  netns?: string;
}

function netnsOption(target: NetworkTarget): { netns?: string } {
  return target.netns === undefined ? {} : { netns: target.netns };
}

/** The address clients reach: the static one, else what the interface has now. */
export async function currentAddress(
  network: NetworkPlan,
  target: NetworkTarget,
): Promise<string | undefined> {
  const fixed = staticAddress(network);
  if (fixed) return fixed;
  const live = await liveInterfaces(target.runner, netnsOption(target)).catch(() => []);
  const iface = live.find((candidate) => candidate.name === network.interface);
  const global = iface?.addresses.find(
    (address) => address.family === 4 && address.scope === "global",
  );
  return global?.cidr.split("/")[0];
}

/**
 * Applies a network plan live (static addresses) and as the boot configuration, with the host
 * name and name servers. Used by first-boot setup and by the console's "change network".
 */
export async function configureNetwork(
  network: NetworkPlan,
  target: NetworkTarget,
): Promise<{ detail: string; address?: string }> {
  const config: InterfaceConfig = {
    name: network.interface,
    autostart: true,
    method4: network.method,
  };
  if (network.method === "static") {
    config.cidr4 = network.address!;
    if (network.gateway) config.gateway4 = network.gateway;
  }
  const files = new NetworkConfigFiles(target.root);
  await files.stage(config);
  if (network.method === "static") {
    // Live first: a configuration the kernel refuses must not become the boot configuration.
    await applyInterfaces(target.runner, [config], netnsOption(target)).catch(async (err) => {
      await files.revert();
      throw err;
    });
  }
  await files.commit();
  const address = await currentAddress(network, target);
  // Debian's convention for a host without a fixed address.
  await writeHostname(target.root, network.fqdn, address ?? "127.0.1.1");
  const [dns1, dns2, dns3] = network.dns;
  const search = network.fqdn.split(".").slice(1).join(".");
  await writeDns(target.root, { search, dns1, dns2, dns3 });
  const detail =
    network.method === "static"
      ? `${network.interface} ${network.address}${network.gateway ? ` via ${network.gateway}` : ""}`
      : `${network.interface} DHCP${address ? ` (now ${address})` : ""}`;
  return address === undefined ? { detail } : { detail, address };
}
