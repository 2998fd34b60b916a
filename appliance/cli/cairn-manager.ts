#!/usr/bin/env node
import { newProgram, runProgram } from "./program.js";

const program = newProgram("cairn-manager", "Administer the Cairn server on this machine");
for (const [name, about] of [
  ["datastore", "create, list and remove datastores"],
  ["user", "manage users and API tokens"],
  ["cert", "show or replace the server certificate"],
  ["disk", "list disks and build ZFS pools"],
] as const) {
  program.command(name).description(`${about} (not available yet)`);
}
await runProgram(program);
