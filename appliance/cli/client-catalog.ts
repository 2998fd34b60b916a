import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Command } from "commander";
import { dumpSnapshot, openArchive } from "../client/catalog/session.js";
import { CatalogShell } from "../client/catalog/shell.js";
import { optionalKey } from "../client/crypt-setup.js";
import {
  type ClientEnvironment,
  openRepository,
  type RepositorySession,
} from "../client/repository-session.js";
import { runRestore } from "../client/restore-run.js";
import { SnapshotReader } from "../client/snapshot-reader.js";
import { parseSnapshotRef } from "../client/snapshot-ref.js";
import { formatBytes } from "../client/units.js";
import type { LoadedKey } from "../format/key-config.js";
import { commandEnvironment, type RepositoryOptions, withRepository } from "./client-options.js";

export interface CatalogOptions extends RepositoryOptions {
  keyfile?: string;
}

export function registerCatalog(program: Command): void {
  const catalog = program.command("catalog").description("browse the file catalog of a snapshot");
  withRepository(catalog.command("dump"))
    .description("print every entry of the catalog: type, path, and size and mtime of files")
    .argument("<snapshot>", "TYPE/ID/TIME")
    .argument("[archive]", "only this archive (root.pxar)")
    .option("--keyfile <path>", "the key the snapshot was encrypted with")
    .action(async (snapshot: string, archive: string | undefined, options: CatalogOptions) => {
      await catalogDumpCommand(snapshot, archive, options, commandEnvironment());
    });
  withRepository(catalog.command("shell"))
    .description("browse an archive and restore what is selected; reads commands from stdin")
    .argument("<snapshot>", "TYPE/ID/TIME")
    .argument("<archive>", "root.pxar, …")
    .option("--keyfile <path>", "the key the snapshot was encrypted with")
    .action(async (snapshot: string, archive: string, options: CatalogOptions) => {
      const failed = await catalogShellCommand(snapshot, archive, options, commandEnvironment());
      if (failed > 0) process.exitCode = 1;
    });
}

/** `cairn catalog dump`: one line per entry on stdout. */
export async function catalogDumpCommand(
  snapshot: string,
  archive: string | undefined,
  options: CatalogOptions,
  environment: ClientEnvironment,
): Promise<void> {
  await withSnapshot(snapshot, options, environment, async (reader) => {
    for await (const line of dumpSnapshot(reader, archive)) environment.stdout.write(`${line}\n`);
  });
}

/**
 * `cairn catalog shell`: commands from `input` (the terminal or a script) until `exit` or its
 * end; returns how many failed (a failed command does not end the session).
 */
export async function catalogShellCommand(
  snapshot: string,
  archive: string,
  options: CatalogOptions,
  environment: ClientEnvironment,
  input: Readable = process.stdin,
): Promise<number> {
  const ref = parseSnapshotRef(snapshot);
  return withSnapshot(snapshot, options, environment, async (reader, session, key) => {
    const browsed = await openArchive(reader, archive);
    const shell = new CatalogShell(browsed.tree, {
      stat: (path) => browsed.stat(path),
      restore: async (target, patterns) => {
        const result = await runRestore({
          address: session.address,
          store: session.repository.store,
          ...(options.ns && { ns: options.ns }),
          snapshot: ref,
          archive,
          target,
          ...(key && { key }),
          ...(patterns.length > 0 && { patterns }),
          terminal: environment.terminal,
        });
        const counters = result.extract!;
        return `restored ${counters.files} files (${formatBytes(counters.bytesWritten)}) and ${counters.directories} directories into ${target}`;
      },
    });
    return runShell(shell, input, environment);
  });
}

/** Reads lines and runs them one at a time; the prompt only when a person is typing. */
async function runShell(
  shell: CatalogShell,
  input: Readable,
  environment: ClientEnvironment,
): Promise<number> {
  const interactive = environment.terminal.interactive && input === process.stdin;
  const out: Writable = environment.stdout;
  const lines = createInterface({
    input,
    ...(interactive && { output: process.stderr, terminal: true }),
  });
  let failed = 0;
  const prompt = () => {
    if (!interactive) return;
    lines.setPrompt(shell.prompt);
    lines.prompt();
  };
  prompt();
  for await (const line of lines) {
    try {
      const reply = await shell.execute(line);
      for (const text of reply.lines) out.write(`${text}\n`);
      if (reply.exit) break;
    } catch (error) {
      failed += 1;
      environment.terminal.note(`error: ${error instanceof Error ? error.message : String(error)}`);
    }
    prompt();
  }
  lines.close();
  return failed;
}

async function withSnapshot<T>(
  snapshot: string,
  options: CatalogOptions,
  environment: ClientEnvironment,
  use: (reader: SnapshotReader, session: RepositorySession, key?: LoadedKey) => Promise<T>,
): Promise<T> {
  const ref = parseSnapshotRef(snapshot);
  const key = await optionalKey(options.keyfile, environment.env);
  const session = await openRepository(options.repository, environment);
  const reader = await SnapshotReader.open({
    address: session.address,
    store: session.repository.store,
    ...(options.ns && { ns: options.ns }),
    snapshot: ref,
    ...(key && { key }),
  });
  try {
    return await use(reader, session, key);
  } finally {
    await reader.close().catch(() => {});
  }
}
