#!/usr/bin/env node
import { InvalidArgumentError } from "commander";
import { runDaemon } from "../server/daemon.js";
import { createLogger } from "../server/logger.js";
import { runPrivilegedDaemon } from "../server/privileged/privileged-daemon.js";
import { DEFAULT_PRIVILEGED_SOCKET } from "../server/privileged/privileged-service.js";
import { DEFAULT_PORT } from "../server/server.js";
import { newProgram, runProgram } from "./program.js";

function port(value: string): number {
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number > 65535) {
    throw new InvalidArgumentError("must be a port number from 0 to 65535");
  }
  return number;
}

function groupId(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError("must be a numeric group id");
  return Number(value);
}

const program = newProgram("cairn-server", "The Cairn backup server daemon (HTTPS on port 8007)")
  .option("--config-dir <dir>", "configuration directory", "/etc/cairn")
  .option("--state-dir <dir>", "state directory (task logs)", "/var/lib/cairn")
  .option("--host <address>", "address to listen on (:: is every IPv4 and IPv6 address)", "::")
  .option("--port <port>", "TCP port to listen on", port, DEFAULT_PORT)
  .option(
    "--embedded [dir]",
    "keep config, state and a datastore 'store1' below one folder, set up on first start",
  )
  .option(
    "--privileged-socket <path>",
    "forward disk, pool and network requests to the privileged service on this socket",
  )
  .option(
    "--privileged",
    "run the privileged service (as root) instead: system routes on a Unix socket only",
  )
  .option(
    "--socket <path>",
    "with --privileged: the socket to listen on",
    DEFAULT_PRIVILEGED_SOCKET,
  )
  .option(
    "--socket-group <gid>",
    "with --privileged: the group that may connect (default: the state directory's group)",
    groupId,
  )
  .action(async (options) => {
    if (options.privileged && options.embedded !== undefined) {
      program.error(
        "error: --privileged and --embedded exclude each other: embedded runs as one process",
      );
    }
    if (options.privileged) {
      await runPrivilegedDaemon({
        configDir: options.configDir,
        stateDir: options.stateDir,
        socketPath: options.socket,
        ...(options.socketGroup !== undefined && { socketGroup: options.socketGroup }),
        logger: createLogger(),
        print: (line) => process.stderr.write(`${line}\n`),
      });
      return;
    }
    await runDaemon({
      configDir: options.configDir,
      stateDir: options.stateDir,
      host: options.host,
      port: options.port,
      logger: createLogger(),
      ...(options.embedded !== undefined && {
        embeddedDir: options.embedded === true ? "cairn-data" : options.embedded,
      }),
      print: (line) => process.stderr.write(`${line}\n`),
      ...(options.privilegedSocket !== undefined && { privilegedSocket: options.privilegedSocket }),
    });
  });
await runProgram(program);
