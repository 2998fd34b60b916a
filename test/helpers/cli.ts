import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the executables from source (appliance/cli/<name>.ts) through tsx. */
export function runCli(name: string, args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "appliance", "cli", `${name}.ts`), ...args],
    { encoding: "utf8", env: { ...process.env, ...env } },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
