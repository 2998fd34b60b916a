import type { InterfaceConfig } from "../../system/network/interfaces-file.js";
import type { NetworkPlan } from "../plan.js";

/** The management interface as the installed system's /etc/network/interfaces configures it. */
export function interfaceConfigOf(network: NetworkPlan): InterfaceConfig {
  const config: InterfaceConfig = {
    name: network.interface,
    autostart: true,
    method4: network.method,
  };
  if (network.method === "static" && network.address) {
    config.cidr4 = network.address;
    if (network.gateway) config.gateway4 = network.gateway;
  }
  return config;
}
