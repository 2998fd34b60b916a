import { mkdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { AccessControl } from "../auth/access-control.js";
import { AUTH_KEY_FILE, CSRF_KEY_FILE } from "../auth/keys.js";
import { giveTo } from "../tasks/file-owner.js";
import { PrivilegedService } from "./privileged-service.js";

export interface PrivilegedDaemonOptions {
  /** The public daemon's config and state directories. */
  configDir: string;
  stateDir: string;
  socketPath: string;
  /** The group that may connect; default: the state directory's group. */
  socketGroup?: number;
  logger: Logger;
  print: (line: string) => void;
  /** Milliseconds running tasks get to finish on SIGTERM. */
  graceMs?: number;
}

/**
 * Runs the privileged service until SIGTERM or SIGINT (`cairn-server --privileged`); a second
 * signal exits at once. Resolves when the service has stopped.
 */
export async function runPrivilegedDaemon(options: PrivilegedDaemonOptions): Promise<void> {
  const { logger } = options;
  await mkdir(options.configDir, { recursive: true, mode: 0o700 });
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  await mkdir(dirname(options.socketPath), { recursive: true, mode: 0o755 });
  const access = await AccessControl.open(options.configDir);
  await keepKeysWithDaemon(options.configDir);
  const service = await PrivilegedService.start({
    socketPath: options.socketPath,
    ...(options.socketGroup !== undefined && { socketGroup: options.socketGroup }),
    configDir: options.configDir,
    stateDir: options.stateDir,
    access,
    logger,
  });
  options.print(`privileged service listening on ${service.socketPath}`);
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "signal received");
      process.once("SIGTERM", () => process.exit(1));
      process.once("SIGINT", () => process.exit(1));
      service
        .close(options.graceMs)
        .catch((err: unknown) => logger.error({ err }, "shutdown failed"))
        .finally(resolve);
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  logger.info("stopped");
}

/**
 * Started first on a fresh install, this root process may have created the ticket and CSRF keys;
 * they belong to the config directory's owner, the public daemon, which must read them.
 */
async function keepKeysWithDaemon(configDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const owner = await stat(configDir);
  await giveTo({ uid: owner.uid, gid: owner.gid }, [
    join(configDir, AUTH_KEY_FILE),
    join(configDir, CSRF_KEY_FILE),
  ]);
}
