#!/usr/bin/env node
import { newProgram, runProgram } from "./program.js";

const program = newProgram("cairn", "Back up and restore this host to a Cairn server");
for (const [name, about] of [
  ["backup", "create a backup of directories, files or block devices"],
  ["restore", "restore an archive of a snapshot"],
  ["snapshot", "list, inspect and forget snapshots"],
  ["list", "list backup groups"],
  ["prune", "prune a backup group by retention options"],
  ["key", "manage encryption keys"],
  ["benchmark", "measure local and upload speed"],
] as const) {
  program.command(name).description(`${about} (not available yet)`);
}
await runProgram(program);
