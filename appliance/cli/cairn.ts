#!/usr/bin/env node
import { registerBackup } from "./client-backup.js";
import { registerBenchmark } from "./client-benchmark.js";
import { registerCatalog } from "./client-catalog.js";
import { registerKey } from "./client-key.js";
import { registerList } from "./client-list.js";
import { registerLogin } from "./client-login.js";
import { registerMount } from "./client-mount.js";
import { registerPrune } from "./client-prune.js";
import { registerRestore } from "./client-restore.js";
import { registerSnapshot } from "./client-snapshot.js";
import { registerStatus } from "./client-status.js";
import { newProgram, runProgram } from "./program.js";

const program = newProgram("cairn", "Back up and restore this host to a Cairn server");
for (const register of [
  registerBackup,
  registerRestore,
  registerCatalog,
  registerMount,
  registerList,
  registerSnapshot,
  registerPrune,
  registerStatus,
  registerKey,
  registerLogin,
  registerBenchmark,
]) {
  register(program);
}
await runProgram(program);
