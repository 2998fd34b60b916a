import type { Command } from "commander";
import { optionalKey } from "../client/crypt-setup.js";
import { type ClientEnvironment, openRepository } from "../client/repository-session.js";
import { type RestoreResult, runRestore } from "../client/restore-run.js";
import { parseSnapshotRef } from "../client/snapshot-ref.js";
import {
  collect,
  commandEnvironment,
  type RateLimitOptions,
  type RepositoryOptions,
  rateLimitOf,
  withRateLimit,
  withRepository,
} from "./client-options.js";

export interface RestoreOptions extends RepositoryOptions, RateLimitOptions {
  keyfile?: string;
  pattern?: string[];
}

export function registerRestore(program: Command): void {
  withRateLimit(withRepository(program.command("restore")), "downloaded")
    .description(
      "restore an archive of a snapshot into a directory, a file, a device or stdout (-)",
    )
    .argument("<snapshot>", "TYPE/ID/TIME, e.g. host/elsa/2024-03-30T23:00:00Z")
    .argument("<archive>", "root.pxar, disk.img, vm.conf, …")
    .argument("<target>", "directory (pxar), file or device (img), or - for stdout")
    .option("--keyfile <path>", "the key the snapshot was encrypted or signed with")
    .option("--pattern <glob>", "restore only matching paths (repeatable)", collect)
    .action(async (snapshot: string, archive: string, target: string, options: RestoreOptions) => {
      await restoreCommand(snapshot, archive, target, options, commandEnvironment());
    });
}

export async function restoreCommand(
  snapshot: string,
  archive: string,
  target: string,
  options: RestoreOptions,
  environment: ClientEnvironment,
): Promise<RestoreResult> {
  const ref = parseSnapshotRef(snapshot);
  const rateLimit = rateLimitOf(options);
  const key = await optionalKey(options.keyfile, environment.env);
  const session = await openRepository(options.repository, environment);
  const result = await runRestore({
    address: session.address,
    store: session.repository.store,
    ...(options.ns && { ns: options.ns }),
    snapshot: ref,
    archive,
    target,
    ...(key && { key }),
    ...(options.pattern && { patterns: options.pattern }),
    ...(rateLimit && { rateLimit }),
    terminal: environment.terminal,
    stdout: environment.stdout,
  });
  if ((result.extract?.warnings ?? 0) > 0) {
    environment.terminal.note(
      `${result.extract!.warnings} entries could not be restored as they were`,
    );
  }
  return result;
}
