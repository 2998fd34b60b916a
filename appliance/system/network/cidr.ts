import { isIPv4, isIPv6 } from "node:net";
import { badInput } from "../errors.js";

export interface Cidr {
  family: 4 | 6;
  address: string;
  prefix: number;
}

/** `192.0.2.10/24` or `2001:db8::10/64`; the address must be a host address of its family. */
export function parseCidr(text: string, field = "cidr"): Cidr {
  const [address = "", prefixText, ...rest] = text.split("/");
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  const max = family === 4 ? 32 : 128;
  if (family === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefixText ?? "")) {
    throw badInput(field, text, "must be an IPv4 or IPv6 address with a /prefix");
  }
  const prefix = Number(prefixText);
  if (prefix < 1 || prefix > max) throw badInput(field, text, `prefix must be 1 to ${max}`);
  return { family, address, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.prefix}`;
}

/** The address as a big integer, for subnet arithmetic on both families. */
export function addressValue(address: string): bigint {
  if (isIPv4(address)) {
    return address.split(".").reduce((value, part) => (value << 8n) | BigInt(part), 0n);
  }
  const [head = "", tail = ""] = address.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  let words = groups(head);
  let back = groups(tail);
  // An embedded IPv4 tail (::ffff:192.0.2.1) is two 16-bit words.
  const last = back[back.length - 1] ?? words[words.length - 1];
  if (last !== undefined && isIPv4(last)) {
    const v4 = addressValue(last);
    const pair = [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    if (back.length > 0) back = [...back.slice(0, -1), ...pair];
    else words = [...words.slice(0, -1), ...pair];
  }
  const fill = address.includes("::") ? 8 - words.length - back.length : 0;
  const all = [...words, ...Array<string>(fill).fill("0"), ...back];
  return all.reduce((value, word) => (value << 16n) | BigInt(`0x${word}`), 0n);
}

/** Whether `address` lies in the subnet of `cidr` (same family required). */
export function inSubnet(cidr: Cidr, address: string): boolean {
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family !== cidr.family) return false;
  const bits = BigInt(family === 4 ? 32 : 128);
  const shift = bits - BigInt(cidr.prefix);
  return addressValue(address) >> shift === addressValue(cidr.address) >> shift;
}

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** A host name: dot-separated labels of letters, digits and inner hyphens, at most 253 chars. */
export function isHostname(name: string): boolean {
  return name.length <= 253 && name.split(".").every((label) => LABEL.test(label));
}

/** A fully qualified name: a host name with at least two labels, not all-numeric at the end. */
export function isFqdn(name: string): boolean {
  const labels = name.split(".");
  return isHostname(name) && labels.length >= 2 && !/^\d+$/.test(labels[labels.length - 1]!);
}
