import { SystemError } from "../errors.js";

const UNITS = "BKMGTPEZ";

/**
 * A ZFS size or count as either CLI prints it: exact (`-p`: "131072") or human ("21.4M", "1.2K",
 * "512B"), 1024-based. Human values are rounded, which is the best zfs-fuse offers for pools.
 */
export function parseZfsSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([BKMGTPEZ])?$/i.exec(text.trim());
  if (!match) throw new SystemError("parse-failed", `not a ZFS size: ${JSON.stringify(text)}`);
  const power = match[2] ? UNITS.indexOf(match[2].toUpperCase()) : 0;
  return Math.round(Number(match[1]) * 1024 ** power);
}

/** A size, or undefined where the CLI prints "-" (not known, as for a FAULTED pool). */
export function parseOptionalZfsSize(text: string): number | undefined {
  return text.trim() === "-" ? undefined : parseZfsSize(text);
}

/** A percentage as "17%", "17" or "-" (not available). */
export function parsePercent(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  return match ? Number(match[1]) : undefined;
}
