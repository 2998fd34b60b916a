import { SystemError } from "../errors.js";

export interface LiveAddress {
  family: 4 | 6;
  cidr: string;
  scope: string;
  /** Set by a DHCP client: the address has a lease lifetime. */
  dynamic?: boolean;
}

export interface LiveInterface {
  name: string;
  index: number;
  /** UP, DOWN, UNKNOWN, LOWERLAYERDOWN… */
  state: string;
  flags: string[];
  mac?: string;
  mtu?: number;
  /** loopback, ether, … */
  linkType?: string;
  addresses: LiveAddress[];
}

export interface LiveRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
}

function parseJsonArray(json: string, what: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json === "" ? "[]" : json);
  } catch (err) {
    throw new SystemError("parse-failed", `${what} printed no valid JSON`, {}, { cause: err });
  }
  if (!Array.isArray(parsed)) throw new SystemError("parse-failed", `${what}: expected a list`);
  return parsed as Record<string, unknown>[];
}

/** `ip -json addr show` (also accepts `ip -json link show`, which has no addr_info). */
export function parseIpAddr(json: string): LiveInterface[] {
  return parseJsonArray(json, "ip addr").map((raw) => {
    const info = Array.isArray(raw.addr_info) ? (raw.addr_info as Record<string, unknown>[]) : [];
    const iface: LiveInterface = {
      name: String(raw.ifname),
      index: Number(raw.ifindex),
      state: String(raw.operstate ?? "UNKNOWN"),
      flags: Array.isArray(raw.flags) ? raw.flags.map(String) : [],
      addresses: info.map((addr) => {
        const address: LiveAddress = {
          family: addr.family === "inet6" ? 6 : 4,
          cidr: `${addr.local}/${addr.prefixlen}`,
          scope: String(addr.scope ?? ""),
        };
        if (addr.dynamic === true) address.dynamic = true;
        return address;
      }),
    };
    if (typeof raw.address === "string") iface.mac = raw.address;
    if (typeof raw.mtu === "number") iface.mtu = raw.mtu;
    if (typeof raw.link_type === "string") iface.linkType = raw.link_type;
    return iface;
  });
}

/** `ip -json route show` (either family). */
export function parseIpRoute(json: string): LiveRoute[] {
  return parseJsonArray(json, "ip route").map((raw) => {
    const route: LiveRoute = { dst: String(raw.dst) };
    if (typeof raw.gateway === "string") route.gateway = raw.gateway;
    if (typeof raw.dev === "string") route.dev = raw.dev;
    if (typeof raw.protocol === "string") route.protocol = raw.protocol;
    return route;
  });
}
