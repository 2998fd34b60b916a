import { type RaidLevel, vdevArgs } from "../system/zfs/raid-layout.js";

/**
 * Why a raid level cannot take this many disks, or undefined when it can. Asks the same rule
 * `zpool create` arguments are built with, so the screen and the pool never disagree.
 */
export function raidProblem(level: RaidLevel, count: number): string | undefined {
  const placeholders = Array.from({ length: count }, (_, i) => `/dev/setup-check-${i}`);
  try {
    vdevArgs(level, placeholders);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return message.replace(/^invalid [^"]*"[^"]*": /, "");
  }
}

const PARITY: Partial<Record<RaidLevel, number>> = { raidz: 1, raidz2: 2, raidz3: 3 };

/**
 * Bytes the pool offers before ZFS overhead: each vdev member counts as large as the smallest
 * one. Undefined when the level cannot take these disks.
 */
export function usableCapacity(level: RaidLevel, sizes: readonly number[]): number | undefined {
  if (sizes.length === 0 || raidProblem(level, sizes.length) !== undefined) return undefined;
  const smallest = Math.min(...sizes);
  switch (level) {
    case "single":
      return sizes[0];
    case "mirror":
      return smallest;
    case "raid10": {
      let total = 0;
      for (let i = 0; i < sizes.length; i += 2) total += Math.min(sizes[i]!, sizes[i + 1]!);
      return total;
    }
    default:
      return (sizes.length - PARITY[level]!) * smallest;
  }
}

/** How many disks may fail without losing the pool. */
export function faultTolerance(level: RaidLevel, count: number): number {
  if (level === "mirror") return count - 1;
  if (level === "raid10") return 1;
  return PARITY[level] ?? 0;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1024-based, three significant digits: "931 GiB", "3.64 TiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 100 ? value.toFixed(0) : value.toPrecision(3);
  return `${shown} ${UNITS[unit]}`;
}
