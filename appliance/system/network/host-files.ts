import { mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import { badInput } from "../errors.js";
import { isFqdn, isHostname } from "./cidr.js";

/** Writes through a temporary file and a rename, so readers never see half a file. */
export async function writeAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, content);
  await rename(temp, path);
}

async function readOrEmpty(path: string): Promise<string> {
  return readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return "";
    throw err;
  });
}

/** `/etc/hostname` (the short name) and the `/etc/hosts` line mapping the FQDN to `address`. */
export async function writeHostname(root: string, fqdn: string, address: string): Promise<void> {
  if (!isFqdn(fqdn))
    throw badInput("fqdn", fqdn, "must be a fully qualified name like pbs.example.com");
  if (isIP(address) === 0) throw badInput("address", address, "must be an IP address");
  const short = fqdn.split(".")[0]!;
  const hostsPath = join(root, "etc/hosts");
  const kept = (await readOrEmpty(hostsPath))
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.split(/\s+/).slice(1).includes(short));
  const hasLocalhost = kept.some((line) => /\slocalhost(\s|$)/.test(line));
  const hosts = [
    ...(hasLocalhost ? [] : ["127.0.0.1 localhost"]),
    ...kept,
    `${address} ${fqdn} ${short}`,
  ];
  await writeAtomic(join(root, "etc/hostname"), `${short}\n`);
  await writeAtomic(hostsPath, `${hosts.join("\n")}\n`);
}

export async function readHostname(root: string): Promise<string> {
  return (await readOrEmpty(join(root, "etc/hostname"))).trim();
}

export interface DnsConfig {
  search?: string;
  dns1?: string;
  dns2?: string;
  dns3?: string;
}

/** PBS's DNS settings: a search domain and up to three name servers. */
export function parseResolvConf(text: string): DnsConfig {
  const config: DnsConfig = {};
  const servers: string[] = [];
  for (const line of text.split("\n")) {
    const [keyword, value] = line.trim().split(/\s+/);
    if (keyword === "search" && value) config.search = value;
    if (keyword === "nameserver" && value) servers.push(value);
  }
  servers.slice(0, 3).forEach((server, i) => {
    config[`dns${i + 1}` as "dns1"] = server;
  });
  return config;
}

export async function readDns(root: string): Promise<DnsConfig> {
  return parseResolvConf(await readOrEmpty(join(root, "etc/resolv.conf")));
}

export async function writeDns(root: string, config: DnsConfig): Promise<void> {
  const lines: string[] = [];
  if (config.search !== undefined) {
    if (!isHostname(config.search))
      throw badInput("search", config.search, "must be a domain name");
    lines.push(`search ${config.search}`);
  }
  for (const key of ["dns1", "dns2", "dns3"] as const) {
    const server = config[key];
    if (server === undefined) continue;
    if (isIP(server) === 0) throw badInput(key, server, "must be an IP address");
    lines.push(`nameserver ${server}`);
  }
  await writeAtomic(join(root, "etc/resolv.conf"), `${lines.join("\n")}\n`);
}

const TIMEZONE = /^(UTC|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2})$/;

/** `/etc/timezone` and the `/etc/localtime` link; the zone must exist under the root's zoneinfo. */
export async function writeTimezone(root: string, zone: string): Promise<void> {
  if (!TIMEZONE.test(zone))
    throw badInput("timezone", zone, "must be a zone name like Europe/Vienna");
  const target = `/usr/share/zoneinfo/${zone}`;
  await readFile(join(root, target)).catch(() => {
    throw badInput("timezone", zone, "is not an installed time zone");
  });
  await writeAtomic(join(root, "etc/timezone"), `${zone}\n`);
  const link = join(root, "etc/localtime");
  await rm(link, { force: true });
  await symlink(target, link);
}

export async function readTimezone(root: string): Promise<string> {
  return (await readOrEmpty(join(root, "etc/timezone"))).trim() || "UTC";
}
