#!/usr/bin/env node
import { InvalidArgumentError } from "commander";
import { runDaemon } from "../server/daemon.js";
import { createLogger } from "../server/logger.js";
import { DEFAULT_PORT } from "../server/server.js";
import { newProgram, runProgram } from "./program.js";

function port(value: string): number {
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number > 65535) {
    throw new InvalidArgumentError("must be a port number from 0 to 65535");
  }
  return number;
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
  .action(async (options) => {
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
    });
  });
await runProgram(program);
