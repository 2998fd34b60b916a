import { execa } from "execa";
import { SystemError } from "./errors.js";

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  /** Answer a non-zero exit instead of throwing (for probes whose failure is information). */
  allowFailure?: boolean;
  input?: string;
}

/**
 * The one way system code runs a program: argument vectors only, never a shell. Tests pass a
 * recording runner to prove that refused input runs nothing.
 */
export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

/** The error for a command that exited non-zero: command line, exit code and stderr. */
export function commandFailed(
  command: string,
  args: readonly string[],
  result: CommandResult,
): SystemError {
  const line = [command, ...args].join(" ");
  const detail = result.stderr.trim() || result.stdout.trim();
  return new SystemError(
    "command-failed",
    `${line} failed (exit ${result.exitCode})${detail ? `: ${detail}` : ""}`,
    { command: line, exitCode: result.exitCode, stderr: result.stderr },
  );
}

/** Runs real programs with execa; a missing program is a command failure naming it. */
export const execaRunner: CommandRunner = {
  async run(command, args, options = {}) {
    const child = await execa(command, [...args], {
      reject: false,
      stripFinalNewline: false,
      env: { LC_ALL: "C" },
      ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
    });
    if (child.failed && child.exitCode === undefined) {
      throw new SystemError("command-failed", `cannot run ${command}: ${child.shortMessage}`, {
        command: [command, ...args].join(" "),
        exitCode: null,
        stderr: String(child.stderr ?? ""),
      });
    }
    const result = {
      stdout: String(child.stdout ?? ""),
      stderr: String(child.stderr ?? ""),
      exitCode: child.exitCode ?? -1,
    };
    if (result.exitCode !== 0 && !options.allowFailure) throw commandFailed(command, args, result);
    return result;
  },
};

/** Runs a command and answers its stdout. */
export async function output(
  runner: CommandRunner,
  command: string,
  args: readonly string[],
): Promise<string> {
  return (await runner.run(command, args)).stdout;
}
