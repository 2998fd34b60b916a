import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionContext } from "ava";
import {
  type CommandResult,
  type CommandRunner,
  execaRunner,
  type RunOptions,
} from "../../appliance/system/command-runner.js";

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
}

/** A runner that records every call; `answer` decides the result (default: success, no output). */
export class RecordingRunner implements CommandRunner {
  readonly calls: string[][] = [];

  constructor(
    private readonly answer: (
      command: string,
      args: readonly string[],
    ) => Partial<CommandResult> = () => ({}),
    private readonly passThrough = false,
  ) {}

  async run(
    command: string,
    args: readonly string[],
    options?: RunOptions,
  ): Promise<CommandResult> {
    this.calls.push([command, ...args]);
    if (this.passThrough) return execaRunner.run(command, args, options);
    return { stdout: "", stderr: "", exitCode: 0, ...this.answer(command, args) };
  }

  /** The calls of one program, e.g. every `zpool create`. */
  of(command: string, sub?: string): string[][] {
    return this.calls.filter(
      (call) => call[0] === command && (sub === undefined || call[1] === sub),
    );
  }
}

/** Whether this machine can run the real tool (root plus the program). */
export function canRun(program: string, args: string[] = []): boolean {
  try {
    execFileSync(program, args, { stdio: "ignore" });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export function scratchDir(t: ExecutionContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A unique short name for pools, namespaces and the like. */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}

/** Runs cleanup steps in order, ignoring failures, so one leftover does not hide the others. */
export function quietly(program: string, args: string[]): void {
  try {
    execFileSync(program, args, { stdio: "ignore" });
  } catch {}
}
