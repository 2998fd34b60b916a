import { badInput } from "../errors.js";

export const RAID_LEVELS = ["single", "mirror", "raid10", "raidz", "raidz2", "raidz3"] as const;
export type RaidLevel = (typeof RAID_LEVELS)[number];

/** The device count each level needs, and the rule as the error states it. */
const RULES: Record<RaidLevel, { fits(count: number): boolean; rule: string }> = {
  single: { fits: (n) => n === 1, rule: "single needs exactly 1 device" },
  mirror: { fits: (n) => n >= 2, rule: "mirror needs 2 or more devices" },
  raid10: { fits: (n) => n >= 4 && n % 2 === 0, rule: "raid10 needs an even number ≥ 4" },
  raidz: { fits: (n) => n >= 3, rule: "raidz needs 3 or more devices" },
  raidz2: { fits: (n) => n >= 4, rule: "raidz2 needs 4 or more devices" },
  raidz3: { fits: (n) => n >= 5, rule: "raidz3 needs 5 or more devices" },
};

/**
 * The vdev part of `zpool create` for a raid level, after checking the devices fit it: absolute
 * paths, no duplicates, a count the level accepts. raid10 pairs devices in the order given.
 */
export function vdevArgs(level: RaidLevel, devices: readonly string[]): string[] {
  if (!RAID_LEVELS.includes(level)) {
    throw badInput("raidlevel", level, `must be one of ${RAID_LEVELS.join(", ")}`);
  }
  for (const device of devices) {
    if (!device.startsWith("/") || /[\s\p{Cc}]/u.test(device) || device.includes("/../")) {
      throw badInput("device", device, "must be an absolute path without spaces or '..'");
    }
  }
  const duplicate = devices.find((device, i) => devices.indexOf(device) !== i);
  if (duplicate !== undefined) throw badInput("device", duplicate, "is listed twice");
  if (!RULES[level].fits(devices.length)) {
    throw badInput("devices", devices.join(","), RULES[level].rule);
  }
  switch (level) {
    case "single":
      return [...devices];
    case "raid10": {
      const pairs: string[] = [];
      for (let i = 0; i < devices.length; i += 2)
        pairs.push("mirror", devices[i]!, devices[i + 1]!);
      return pairs;
    }
    default:
      return [level, ...devices];
  }
}
