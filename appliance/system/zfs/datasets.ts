import { type CommandResult, type CommandRunner, commandFailed } from "../command-runner.js";
import { badInput, SystemError } from "../errors.js";
import { compressionSupported, type ZfsCapabilities } from "./capabilities.js";
import { validateDatasetName } from "./names.js";
import { parseZfsSize } from "./sizes.js";
import { parseZfsGet } from "./zfs-get.js";

/** The properties Cairn lets callers set; sizes in bytes (0 = none). */
export interface DatasetSettings {
  quota?: number;
  reservation?: number;
  compression?: string;
  /** A power of two from 512 bytes to 1 MiB (zfs-fuse: 128 KiB). */
  recordsize?: number;
  mountpoint?: string;
  atime?: "on" | "off";
  relatime?: "on" | "off";
}

export interface DatasetInfo {
  name: string;
  used: number;
  available: number;
  referenced: number;
  quota: number;
  reservation: number;
  recordsize: number;
  compression: string;
  mountpoint: string;
  mounted: boolean;
}

const LISTED = [
  "type",
  "used",
  "available",
  "referenced",
  "quota",
  "reservation",
  "recordsize",
  "compression",
  "mountpoint",
  "mounted",
];

/** `-o name=value` pairs for settings, each checked against its rule and this ZFS. */
export function settingArgs(settings: DatasetSettings, capabilities: ZfsCapabilities): string[] {
  const pairs: string[] = [];
  for (const key of ["quota", "reservation"] as const) {
    const value = settings[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw badInput(key, value, "must be a whole number of bytes (0 for none)");
    }
    pairs.push(`${key}=${value === 0 ? "none" : value}`);
  }
  const { recordsize, compression, mountpoint } = settings;
  if (recordsize !== undefined) {
    const power = Math.log2(recordsize);
    if (!Number.isInteger(power) || power < 9 || power > 20) {
      throw badInput("recordsize", recordsize, "must be a power of two from 512 to 1048576");
    }
    pairs.push(`recordsize=${recordsize}`);
  }
  if (compression !== undefined) {
    if (!compressionSupported(capabilities, compression)) {
      throw badInput(
        "compression",
        compression,
        `must be one of ${capabilities.compression.join(", ")}`,
      );
    }
    pairs.push(`compression=${compression}`);
  }
  if (mountpoint !== undefined) {
    if (!/^(\/[^\s\p{Cc}]*|none|legacy)$/u.test(mountpoint)) {
      throw badInput("mountpoint", mountpoint, "must be an absolute path, none or legacy");
    }
    pairs.push(`mountpoint=${mountpoint}`);
  }
  for (const key of ["atime", "relatime"] as const) {
    const value = settings[key];
    if (value === undefined) continue;
    if (value !== "on" && value !== "off") throw badInput(key, value, "must be on or off");
    if (key === "relatime" && !capabilities.relatime) {
      throw new SystemError("unsupported", "this ZFS has no relatime property");
    }
    pairs.push(`${key}=${value}`);
  }
  return pairs;
}

/** Typed wrapper around `zfs` for filesystems (no volumes or snapshots yet). */
export class ZfsDatasets {
  constructor(
    private readonly runner: CommandRunner,
    readonly capabilities: ZfsCapabilities,
  ) {}

  async create(name: string, settings: DatasetSettings = {}): Promise<void> {
    const dataset = validateDatasetName(name);
    if (!dataset.includes("/")) throw badInput("dataset name", name, "must be below a pool");
    const pairs = settingArgs(settings, this.capabilities);
    await this.#zfs(dataset, ["create", ...pairs.flatMap((pair) => ["-o", pair]), dataset]);
  }

  /** The dataset and its descendants, or every filesystem when no name is given. */
  async list(name?: string): Promise<DatasetInfo[]> {
    // No `-t`: zfs-fuse lacks it, so the type is asked for and filtered on.
    const args = ["get", "-Hp", "-o", "name,property,value,source"];
    if (name === undefined) args.push(LISTED.join(","));
    else args.push("-r", LISTED.join(","), validateDatasetName(name));
    const { stdout } = await this.#zfs(name, args);
    const found = [...parseZfsGet(stdout)].filter(
      ([, properties]) => properties.get("type")?.value === "filesystem",
    );
    return found.map(([dataset, properties]) => {
      const text = (key: string) => properties.get(key)?.value ?? "-";
      const size = (key: string) => (/^\d/.test(text(key)) ? parseZfsSize(text(key)) : 0);
      return {
        name: dataset,
        used: size("used"),
        available: size("available"),
        referenced: size("referenced"),
        quota: size("quota"),
        reservation: size("reservation"),
        recordsize: size("recordsize"),
        compression: text("compression"),
        mountpoint: text("mountpoint"),
        mounted: text("mounted") === "yes",
      };
    });
  }

  async info(name: string): Promise<DatasetInfo> {
    const found = (await this.list(name)).find((dataset) => dataset.name === name);
    if (!found) throw new SystemError("not-found", `no dataset ${name}`, { dataset: name });
    return found;
  }

  /** Raw values of the named properties (all when none are named). */
  async get(name: string, properties: string[] = ["all"]): Promise<Record<string, string>> {
    for (const property of properties) {
      if (!/^[a-z][a-z0-9_:.@-]*$/.test(property))
        throw badInput("property", property, "is not a property name");
    }
    const dataset = validateDatasetName(name);
    const { stdout } = await this.#zfs(dataset, [
      "get",
      "-Hp",
      "-o",
      "name,property,value,source",
      properties.join(","),
      dataset,
    ]);
    const values = parseZfsGet(stdout).get(dataset) ?? new Map();
    return Object.fromEntries([...values].map(([key, { value }]) => [key, value]));
  }

  async set(name: string, settings: DatasetSettings): Promise<void> {
    const dataset = validateDatasetName(name);
    const pairs = settingArgs(settings, this.capabilities);
    if (pairs.length === 0) throw badInput("settings", "{}", "name at least one property");
    // One call per property: zfs-fuse's `zfs set` takes a single name=value.
    for (const pair of pairs) await this.#zfs(dataset, ["set", pair, dataset]);
  }

  async destroy(name: string, options: { recursive?: boolean } = {}): Promise<void> {
    const dataset = validateDatasetName(name);
    if (!dataset.includes("/")) {
      throw badInput("dataset name", name, "is a pool's root dataset; destroy the pool instead");
    }
    await this.#zfs(dataset, ["destroy", ...(options.recursive ? ["-r"] : []), dataset]);
  }

  async #zfs(name: string | undefined, args: string[]): Promise<CommandResult> {
    const result = await this.runner.run("zfs", args, { allowFailure: true });
    if (result.exitCode === 0) return result;
    if (name !== undefined && /dataset does not exist|no such pool/.test(result.stderr)) {
      throw new SystemError("not-found", `no dataset ${name}`, {
        dataset: name,
        command: ["zfs", ...args].join(" "),
        stderr: result.stderr,
      });
    }
    throw commandFailed("zfs", args, result);
  }
}
