#!/usr/bin/env node
import { newProgram, runProgram } from "./program.js";

const program = newProgram("cairn-server", "The Cairn backup server daemon (HTTPS on port 8007)")
  .option("--config-dir <dir>", "configuration directory", "/etc/cairn")
  .option("--port <port>", "TCP port to listen on", "8007")
  .action(() => {
    throw new Error("the server is not available in this version yet");
  });
await runProgram(program);
