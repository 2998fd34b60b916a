import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installCertificate } from "../../appliance/server/tls/certificate-files.js";
import { createSelfSignedCertificate } from "../../appliance/server/tls/self-signed.js";
import { type CliResult, REPO_ROOT, runCli } from "../helpers/cli.js";

/** A cairn-server process on 127.0.0.1 with its config and state in a fresh temp dir. */
export interface RunningDaemon {
  root: string;
  configDir: string;
  stateDir: string;
  port: number;
  /** As the daemon printed it at start. */
  fingerprint: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** cairn-manager pointed at this daemon's directories. */
  manager(args: string[], env?: NodeJS.ProcessEnv): CliResult;
  /** SIGTERM, then waits for the exit; the temp dir stays until `remove`. */
  stop(): Promise<number | null>;
  remove(): Promise<void>;
}

export interface DaemonOptions {
  /** Reuse the directories of an earlier daemon. */
  root?: string;
  /** Runs before the daemon starts, e.g. to register a datastore. */
  prepare?: (dirs: { root: string; configDir: string }) => Promise<void>;
}

/**
 * Starts cairn-server and waits until it listens. On a fresh root, a 2048-bit certificate is made
 * beforehand (the daemon's own first start makes a slow 4096-bit one).
 */
export async function startDaemon(options: DaemonOptions = {}): Promise<RunningDaemon> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), "cairn-manager-")));
  const configDir = join(root, "etc");
  const stateDir = join(root, "lib");
  if (options.root === undefined) {
    await mkdir(configDir, { mode: 0o700 });
    await installCertificate(configDir, await createSelfSignedCertificate({ rsaBits: 2048 }));
  }
  await options.prepare?.({ root, configDir });
  const log = await open(join(root, "daemon.log"), "w");
  const child = spawn(
    process.execPath,
    [
      "--import",
      import.meta.resolve("tsx"),
      join(REPO_ROOT, "appliance", "cli", "cairn-server.ts"),
      ...["--config-dir", configDir, "--state-dir", stateDir, "--host", "127.0.0.1", "--port", "0"],
    ],
    { stdio: ["ignore", log.fd, "pipe"] },
  );
  await log.close();
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const banner = await new Promise<string>((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`no start banner: ${text}`)), 60_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (/^listening on .*\n/m.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    void exited.then(async (code) => {
      const logged = await readFile(join(root, "daemon.log"), "utf8").catch(() => "");
      reject(new Error(`cairn-server exited with ${code}: ${text}${logged}`));
    });
  });
  const manager = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli("cairn-manager", ["--config-dir", configDir, "--state-dir", stateDir, ...args], env);
  return {
    root,
    configDir,
    stateDir,
    port: Number(/^listening on https:\/\/[^\n]*:(\d+)\/$/m.exec(banner)![1]),
    fingerprint: /^fingerprint: (\S+)$/m.exec(banner)![1]!,
    child,
    exited,
    manager,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** The lines of a text table split into cells at runs of two or more spaces. */
export function tableCells(text: string): string[][] {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => line.split(/ {2,}/));
}
