import { setTimeout } from "node:timers/promises";
import { type CommandResult, type CommandRunner, commandFailed } from "../command-runner.js";
import { badInput, SystemError } from "../errors.js";
import { bestCompression, compressionSupported, type ZfsCapabilities } from "./capabilities.js";
import { validatePoolName } from "./names.js";
import { type RaidLevel, vdevArgs } from "./raid-layout.js";
import { type PoolSummary, parseZpoolList, poolListColumns } from "./zpool-list.js";
import { type PoolStatus, parseZpoolStatus } from "./zpool-status.js";

export interface CreatePoolOptions {
  name: string;
  devices: string[];
  raidlevel: RaidLevel;
  /** log2 of the sector size, 9–16; default 12 (4 KiB). */
  ashift?: number;
  /** A value the CLI lists; default lz4, or the best available. */
  compression?: string;
  /** Where the pool's root dataset mounts; default the CLI's (`/<name>`). */
  mountpoint?: string;
}

/** The complete `zpool create` argument vector, after every check that needs no command. */
export function createPoolArgs(
  options: CreatePoolOptions,
  capabilities: ZfsCapabilities,
): string[] {
  const name = validatePoolName(options.name);
  const vdevs = vdevArgs(options.raidlevel, options.devices);
  const ashift = options.ashift ?? 12;
  if (!Number.isInteger(ashift) || ashift < 9 || ashift > 16) {
    throw badInput("ashift", ashift, "must be a whole number from 9 to 16");
  }
  const compression = options.compression ?? bestCompression(capabilities);
  if (!compressionSupported(capabilities, compression)) {
    throw badInput(
      "compression",
      compression,
      `this ZFS supports ${capabilities.compression.join(", ")}`,
    );
  }
  const mountpoint = options.mountpoint;
  if (mountpoint !== undefined && (!mountpoint.startsWith("/") || /[\s\p{Cc}]/u.test(mountpoint))) {
    throw badInput("mountpoint", mountpoint, "must be an absolute path without spaces");
  }
  // Access times must be kept: garbage collection marks chunks by touching them.
  const datasetOptions = ["-O", `compression=${compression}`, "-O", "atime=on"];
  if (capabilities.relatime) datasetOptions.push("-O", "relatime=on");
  return [
    "create",
    "-o",
    `ashift=${ashift}`,
    ...datasetOptions,
    ...(mountpoint === undefined ? [] : ["-m", mountpoint]),
    name,
    ...vdevs,
  ];
}

const BUSY_ATTEMPTS = 5;
const BUSY_DELAY_MS = 200;

/** Typed wrapper around `zpool`; every method validates names before running anything. */
export class Zpool {
  constructor(
    private readonly runner: CommandRunner,
    readonly capabilities: ZfsCapabilities,
  ) {}

  async list(): Promise<PoolSummary[]> {
    const columns = poolListColumns(this.capabilities.fragmentation);
    const flags = this.capabilities.exactPoolList ? "-Hp" : "-H";
    const { stdout } = await this.runner.run("zpool", ["list", flags, "-o", columns.join(",")]);
    return parseZpoolList(stdout, columns, this.capabilities.exactPoolList);
  }

  async status(name?: string): Promise<PoolStatus[]> {
    const args = ["status", "-v"];
    if (name !== undefined) args.push(validatePoolName(name));
    const result = await this.runner.run("zpool", args, { allowFailure: true });
    if (result.exitCode !== 0) throw poolCommandFailed(name, args, result);
    return parseZpoolStatus(result.stdout);
  }

  async get(name: string): Promise<PoolStatus> {
    const [pool] = await this.status(name);
    if (!pool) throw new SystemError("not-found", `no pool ${name}`, { pool: name });
    return pool;
  }

  /** Creates the pool; devices must have been checked free by the caller (see `checkDevicesFree`). */
  async create(options: CreatePoolOptions): Promise<void> {
    const args = createPoolArgs(options, this.capabilities);
    if ((await this.list()).some((pool) => pool.name === options.name)) {
      throw new SystemError("exists", `pool ${options.name} already exists`, {
        pool: options.name,
      });
    }
    await this.runner.run("zpool", args);
  }

  async destroy(name: string): Promise<void> {
    await this.#retryBusy(name, ["destroy", validatePoolName(name)]);
  }

  async scrub(name: string, action: "start" | "stop" = "start"): Promise<void> {
    const pool = validatePoolName(name);
    await this.#simple(name, action === "start" ? ["scrub", pool] : ["scrub", "-s", pool]);
  }

  async export(name: string): Promise<void> {
    await this.#retryBusy(name, ["export", validatePoolName(name)]);
  }

  /** Imports by name; `searchDirs` are passed as `-d` (files or a non-default /dev directory). */
  async import(name: string, searchDirs: string[] = []): Promise<void> {
    const pool = validatePoolName(name);
    for (const dir of searchDirs) {
      if (!dir.startsWith("/")) throw badInput("search directory", dir, "must be absolute");
    }
    await this.#simple(name, ["import", ...searchDirs.flatMap((dir) => ["-d", dir]), pool]);
  }

  async offline(name: string, device: string): Promise<void> {
    await this.#simple(name, ["offline", validatePoolName(name), device]);
  }

  async online(name: string, device: string): Promise<void> {
    await this.#simple(name, ["online", validatePoolName(name), device]);
  }

  /** Unmounting right after a mount or a scan can report "busy" for a moment (seen on zfs-fuse). */
  async #retryBusy(name: string, args: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#simple(name, args);
      } catch (err) {
        const busy = err instanceof SystemError && /busy/.test(String(err.context.stderr));
        if (!busy || attempt === BUSY_ATTEMPTS) throw err;
        await setTimeout(BUSY_DELAY_MS * attempt);
      }
    }
  }

  async #simple(name: string, args: string[]): Promise<void> {
    const result = await this.runner.run("zpool", args, { allowFailure: true });
    if (result.exitCode !== 0) throw poolCommandFailed(name, args, result);
  }
}

/** "no such pool" becomes not-found; anything else a command failure carrying stderr. */
function poolCommandFailed(
  name: string | undefined,
  args: string[],
  result: CommandResult,
): SystemError {
  if (name !== undefined && /no such pool/i.test(result.stderr)) {
    return new SystemError("not-found", `no pool ${name}`, {
      pool: name,
      command: ["zpool", ...args].join(" "),
      stderr: result.stderr,
    });
  }
  return commandFailed("zpool", args, result);
}
