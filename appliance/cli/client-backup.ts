import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { Command } from "commander";
import { parseArchiveSpec } from "../client/archive-spec.js";
import { type BackupResult, runBackup } from "../client/backup-run.js";
import { parseChangeDetectionMode } from "../client/change-detection.js";
import { defaultMasterPublicKeyPath } from "../client/config-paths.js";
import { resolveCrypt } from "../client/crypt-setup.js";
import { dirtyBitmapForImage } from "../client/dirty-bitmap.js";
import { ClientError } from "../client/errors.js";
import { type ClientEnvironment, openRepository } from "../client/repository-session.js";
import { BACKUP_TYPES, type BackupType } from "../format/manifest.js";
import {
  collect,
  commandEnvironment,
  type RateLimitOptions,
  type RepositoryOptions,
  rateLimitOf,
  withRateLimit,
  withRepository,
} from "./client-options.js";

export interface BackupOptions extends RepositoryOptions, RateLimitOptions {
  backupType?: string;
  backupId?: string;
  backupTime?: string;
  keyfile?: string;
  cryptMode?: string;
  exclude?: string[];
  allFileSystems?: boolean;
  masterPubkeyFile?: string;
  changeDetectionMode?: string;
  dirtyBitmap?: string;
}

export function registerBackup(program: Command): void {
  withRateLimit(withRepository(program.command("backup")), "uploaded")
    .description("create a backup: LABEL.pxar:DIR, LABEL.img:FILE_OR_DEVICE, LABEL.conf:FILE")
    .argument("<archives...>", "what to back up, as LABEL.EXT:PATH")
    .option("--backup-type <type>", "host, vm or ct", "host")
    .option("--backup-id <id>", "the group's id (default: this host's name)")
    .option("--backup-time <epoch>", "the snapshot's time in epoch seconds (default: now)")
    .option("--keyfile <path>", "encryption key file")
    .option("--crypt-mode <mode>", "none, encrypt or sign-only")
    .option("--exclude <pattern>", "leave out paths matching (repeatable)", collect)
    .option("--all-file-systems", "cross file system boundaries")
    .option("--master-pubkey-file <path>", "also store the key wrapped with this RSA public key")
    .option(
      "--change-detection-mode <mode>",
      "legacy (one .pxar), data (split .mpxar/.ppxar) or metadata (split, unchanged files not read)",
      "legacy",
    )
    .option(
      "--dirty-bitmap <file>",
      "read only the image's chunks marked in FILE, building on the previous snapshot: one bit " +
        "per 4 MiB chunk, least significant bit first, ceil(chunks / 8) bytes; without a previous " +
        "snapshot of that image at the same size the whole image is read, with a warning",
    )
    .action(async (archives: string[], options: BackupOptions) => {
      const result = await backupCommand(archives, options, commandEnvironment());
      // data missing from the snapshot fails the run; files that changed meanwhile do not (as PBS)
      if (result.incomplete.length > 0) process.exitCode = 1;
    });
}

/** `cairn backup`: the summary goes to stderr, as PBS's client logs it. */
export async function backupCommand(
  archives: readonly string[],
  options: BackupOptions,
  environment: ClientEnvironment,
): Promise<BackupResult> {
  const specs = archives.map(parseArchiveSpec);
  const rateLimit = rateLimitOf(options);
  const changeDetection = parseChangeDetectionMode(options.changeDetectionMode ?? "legacy");
  const type = backupType(options.backupType ?? "host");
  const id = options.backupId ?? hostname().split(".")[0]!;
  const time =
    options.backupTime === undefined ? Math.floor(Date.now() / 1000) : epoch(options.backupTime);
  const crypt = await resolveCrypt({
    ...(options.keyfile !== undefined && { keyfile: options.keyfile }),
    ...(options.cryptMode !== undefined && { cryptMode: options.cryptMode }),
    env: environment.env,
  });
  const dirtyBitmap =
    options.dirtyBitmap === undefined
      ? undefined
      : await dirtyBitmapForImage(specs, options.dirtyBitmap);
  const masterPublicKey = crypt.key
    ? await masterKey(options.masterPubkeyFile, environment.env)
    : undefined;
  const session = await openRepository(options.repository, environment);
  const result = await runBackup({
    address: session.address,
    store: session.repository.store,
    ...(options.ns && { ns: options.ns }),
    type,
    id,
    time,
    archives: specs,
    crypt,
    ...(options.exclude && { exclude: options.exclude }),
    ...(options.allFileSystems && { oneFileSystem: false }),
    ...(masterPublicKey !== undefined && { masterPublicKey }),
    changeDetection,
    ...(rateLimit && { rateLimit }),
    ...(dirtyBitmap && { dirtyBitmap }),
    terminal: environment.terminal,
  });
  environment.terminal.note(
    `backup ${type}/${id}/${new Date(time * 1000).toISOString().slice(0, 19)}Z: ${result.summary}`,
  );
  if (result.incomplete.length > 0) {
    environment.terminal.note(
      `backup incomplete: ${result.incomplete.length} entries missing or only partly backed up:`,
    );
    for (const message of result.incomplete) environment.terminal.note(`  ${message}`);
  } else if (result.warnings > 0) {
    environment.terminal.note(`${result.warnings} warnings (see above); no data is missing`);
  }
  return result;
}

function backupType(text: string): BackupType {
  if ((BACKUP_TYPES as readonly string[]).includes(text)) return text as BackupType;
  throw new ClientError("bad-argument", `--backup-type must be host, vm or ct, got '${text}'`);
}

function epoch(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new ClientError("bad-argument", `--backup-time must be epoch seconds, got '${text}'`);
  }
  return value;
}

/** The given master public key, else the default one when it exists. */
async function masterKey(
  path: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (path !== undefined) return readFile(path, "utf8");
  return readFile(defaultMasterPublicKeyPath(env), "utf8").catch(() => undefined);
}
