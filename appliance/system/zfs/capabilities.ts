import type { CommandRunner } from "../command-runner.js";

/** What the installed ZFS offers; OpenZFS 2.x and zfs-fuse differ in all of these. */
export interface ZfsCapabilities {
  /** `zpool list -p` exists (exact byte counts). */
  exactPoolList: boolean;
  /** The pool property `fragmentation` exists. */
  fragmentation: boolean;
  /** The dataset property `relatime` exists. */
  relatime: boolean;
  /** Values `compression` accepts, as the usage table lists them ("gzip-[1-9]" kept as is). */
  compression: string[];
}

/** Preferred first: what "the best available" compression means when none is asked for. */
const COMPRESSION_PREFERENCE = ["lz4", "zstd", "lzjb", "gzip", "zle"];

/**
 * The property table `zfs get` (no arguments) prints to stderr: property name → its VALUES
 * column split on '|'.
 */
export function parsePropertyTable(usage: string): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const line of usage.split("\n")) {
    const match = /^\t(\S+)\s+(?:YES|NO)\s+(?:(?:YES|NO)\s+)?(.*)$/.exec(line);
    if (!match) continue;
    const [, name, values] = match as unknown as [string, string, string];
    table.set(
      name,
      values.split("|").map((value) => value.trim()),
    );
  }
  return table;
}

/** Whether `value` is one of the listed values, expanding "gzip-[1-9]". */
export function compressionSupported(capabilities: ZfsCapabilities, value: string): boolean {
  return capabilities.compression.some((listed) => {
    const range = /^(.*)-\[(\d+)-(\d+)\]$/.exec(listed);
    if (!range) return listed === value;
    const [, stem, low, high] = range as unknown as [string, string, string, string];
    const level = value.startsWith(`${stem}-`) ? value.slice(stem.length + 1) : "";
    return /^\d+$/.test(level) && Number(level) >= Number(low) && Number(level) <= Number(high);
  });
}

/** lz4 where it exists, else the next best the CLI offers; "on" as a last resort. */
export function bestCompression(capabilities: ZfsCapabilities): string {
  return COMPRESSION_PREFERENCE.find((value) => capabilities.compression.includes(value)) ?? "on";
}

/** Asks the CLIs: `zfs get` usage for properties, `zpool list -Hp` for exact sizes. */
export async function detectZfsCapabilities(runner: CommandRunner): Promise<ZfsCapabilities> {
  const usage = await runner.run("zfs", ["get"], { allowFailure: true });
  const properties = parsePropertyTable(`${usage.stdout}\n${usage.stderr}`);
  const exact = await runner.run("zpool", ["list", "-Hp", "-o", "name"], { allowFailure: true });
  const poolUsage = await runner.run("zpool", ["get"], { allowFailure: true });
  const poolProperties = parsePropertyTable(`${poolUsage.stdout}\n${poolUsage.stderr}`);
  return {
    exactPoolList: exact.exitCode === 0,
    fragmentation: poolProperties.has("fragmentation"),
    relatime: properties.has("relatime"),
    compression: properties.get("compression") ?? ["on", "off"],
  };
}
