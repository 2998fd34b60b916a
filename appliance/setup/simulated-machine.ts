import { appendFileSync, readFileSync } from "node:fs";
import type { CommandResult, CommandRunner } from "../system/command-runner.js";
import { commandFailed } from "../system/command-runner.js";

/**
 * A machine described in a JSON file, for rehearsing setup without touching the host (demos,
 * screenshots, end-to-end tests of the console): lsblk and ip answer from the file, every other
 * command succeeds silently, and each call is appended to a log as one JSON line.
 */
export interface SimulatedMachine {
  /** `lsblk --json` output (paths may point at plain files, which the disk checks accept). */
  lsblk: unknown;
  /** `ip -json addr show` output. */
  ipAddr: unknown;
  /** `ip -json route show default` output. */
  ipRoute?: unknown;
  /** Values `zfs get` lists for compression; default OpenZFS's common ones. */
  compression?: string[];
  /** Commands that fail, matched by the start of the command line, each `times` times (default 1). */
  failures?: { command: string; stderr: string; times?: number }[];
  /** Where each command is recorded. */
  log?: string;
}

export class SimulatedRunner implements CommandRunner {
  readonly #failures: { command: string; stderr: string; left: number }[];

  constructor(readonly machine: SimulatedMachine) {
    this.#failures = (machine.failures ?? []).map((failure) => ({
      command: failure.command,
      stderr: failure.stderr,
      left: failure.times ?? 1,
    }));
  }

  static fromFile(path: string): SimulatedRunner {
    return new SimulatedRunner(JSON.parse(readFileSync(path, "utf8")) as SimulatedMachine);
  }

  async run(
    command: string,
    args: readonly string[],
    options: { allowFailure?: boolean } = {},
  ): Promise<CommandResult> {
    if (this.machine.log)
      appendFileSync(this.machine.log, `${JSON.stringify([command, ...args])}\n`);
    const result = this.#answer(command, args);
    if (result.exitCode !== 0 && !options.allowFailure) throw commandFailed(command, args, result);
    return result;
  }

  #answer(command: string, args: readonly string[]): CommandResult {
    const line = [command, ...args].join(" ");
    const failure = this.#failures.find(
      (entry) => entry.left > 0 && line.startsWith(entry.command),
    );
    if (failure) {
      failure.left--;
      return { stdout: "", stderr: failure.stderr, exitCode: 1 };
    }
    const ok = (stdout = "") => ({ stdout, stderr: "", exitCode: 0 });
    const words = args.filter((arg) => !arg.startsWith("-") && arg !== this.#netns(args));
    if (command === "lsblk") return ok(JSON.stringify(this.machine.lsblk));
    if (command === "ip" && words[0] === "addr") return ok(JSON.stringify(this.machine.ipAddr));
    if (command === "ip" && words[0] === "route" && words[1] === "show") {
      return ok(JSON.stringify(this.machine.ipRoute ?? []));
    }
    if (command === "zpool" && words[0] === "status") return ok("no pools available\n");
    if (command === "zfs" && args.length === 1 && args[0] === "get") {
      const values = (
        this.machine.compression ?? ["on", "off", "lz4", "gzip", "gzip-[1-9]", "zle"]
      ).join(" | ");
      return { stdout: "", stderr: `\tcompression\tYES\tYES\t${values}\n`, exitCode: 2 };
    }
    if (command === "blkid" || command === "which") return { stdout: "", stderr: "", exitCode: 2 };
    return ok();
  }

  #netns(args: readonly string[]): string | undefined {
    const at = args.indexOf("-n");
    return at >= 0 ? args[at + 1] : undefined;
  }
}
