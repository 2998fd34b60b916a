import type { DeviceNumber } from "../../format/pxar/types.js";

/** Splits a `dev_t` (as `stat` reports it) with glibc's `major()` / `minor()` bit layout. */
export function splitDevice(rdev: bigint): DeviceNumber {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major & 0xffffffffn), minor: Number(minor & 0xffffffffn) };
}
