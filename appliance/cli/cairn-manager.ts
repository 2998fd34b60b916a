#!/usr/bin/env node
import { registerAclCommands } from "./manager-acl.js";
import { registerCertCommands } from "./manager-cert.js";
import { addLocationOptions, ManagerContext } from "./manager-context.js";
import { registerDatastoreCommands } from "./manager-datastore.js";
import { registerGcCommands } from "./manager-gc.js";
import { registerCalendarCommand } from "./manager-jobs-calendar.js";
import { registerNotificationCommands } from "./manager-notification.js";
import { registerPruneCommand } from "./manager-prune.js";
import { registerPruneJobCommands } from "./manager-prune-job.js";
import { registerRemoteCommands } from "./manager-remote.js";
import { registerSyncJobCommands } from "./manager-sync.js";
import { registerTaskCommands } from "./manager-task.js";
import { registerUserCommands } from "./manager-user.js";
import { registerVerifyCommand } from "./manager-verify.js";
import { registerVerifyJobCommands } from "./manager-verify-job.js";
import { newProgram, runProgram } from "./program.js";

const program = newProgram(
  "cairn-manager",
  "Administer the Cairn server on this machine through its admin socket (<state-dir>/api.sock)",
);
addLocationOptions(program);
const manager = new ManagerContext(program);
registerDatastoreCommands(program, manager);
registerUserCommands(program, manager);
registerAclCommands(program, manager);
registerGcCommands(program, manager);
registerPruneCommand(program, manager);
registerVerifyCommand(program, manager);
registerPruneJobCommands(program, manager);
registerVerifyJobCommands(program, manager);
registerNotificationCommands(program, manager);
registerRemoteCommands(program, manager);
registerSyncJobCommands(program, manager);
registerTaskCommands(program, manager);
registerCertCommands(program, manager);
registerCalendarCommand(program);
program.command("disk").description("list disks and build ZFS pools (not available yet)");
await runProgram(program);
