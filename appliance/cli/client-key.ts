import { join } from "node:path";
import type { Command } from "commander";
import { defaultKeyPath } from "../client/config-paths.js";
import {
  changeKeyPassphrase,
  createKey,
  createMasterKeyFiles,
  importWithMasterKey,
  paperKey,
  parseKdf,
  showKey,
} from "../client/key-commands.js";
import type { ClientEnvironment } from "../client/repository-session.js";
import { commandEnvironment, showTime, withOutputFormat, writeRecord } from "./client-options.js";
import type { OutputFormat } from "./output.js";

export function registerKey(program: Command): void {
  const key = program.command("key").description("manage encryption keys");
  key
    .command("create")
    .description("create a new encryption key (default ~/.config/cairn/encryption-key.json)")
    .argument("[path]", "where to write it")
    .option("--kdf <kdf>", "scrypt, pbkdf2 or none", "scrypt")
    .option("--hint <text>", "a hint for the passphrase")
    .action(async (path: string | undefined, options: { kdf: string; hint?: string }) => {
      const environment = commandEnvironment();
      const target = path ?? defaultKeyPath(environment.env);
      const fingerprint = await createKey(target, parseKdf(options.kdf), environment, options.hint);
      environment.terminal.note(`created ${target}, fingerprint ${fingerprint}`);
    });
  key
    .command("change-passphrase")
    .description("protect a key with a new passphrase")
    .argument("[path]", "the key file")
    .option("--kdf <kdf>", "scrypt, pbkdf2 or none")
    .action(async (path: string | undefined, options: { kdf?: string }) => {
      const environment = commandEnvironment();
      const kdf = options.kdf === undefined ? undefined : parseKdf(options.kdf);
      await changeKeyPassphrase(path ?? defaultKeyPath(environment.env), kdf, environment);
    });
  withOutputFormat(key.command("show"))
    .description("show a key's fingerprint, kdf and dates")
    .argument("[path]", "the key file")
    .action((path: string | undefined, options: { outputFormat: OutputFormat }) =>
      keyShowCommand(path, options, commandEnvironment()),
    );
  key
    .command("paperkey")
    .description("print the key for a paper backup")
    .argument("[path]", "the key file")
    .action(async (path: string | undefined) => {
      const environment = commandEnvironment();
      environment.stdout.write(await paperKey(path ?? defaultKeyPath(environment.env)));
    });
  key
    .command("create-master-key")
    .description("create an RSA master key pair (master-public.pem, master-private.pem) here")
    .action(async () => {
      const environment = commandEnvironment();
      await createMasterKeyFiles("master-public.pem", "master-private.pem", environment);
      environment.terminal.note(
        `copy master-public.pem to ${join("~/.config/cairn", "master-public.pem")} to use it`,
      );
    });
  key
    .command("import-with-master-key")
    .description("recover a key from a snapshot's rsa-encrypted.key.blob")
    .argument("<path>", "where to write the recovered key")
    .argument("<master-private>", "the master private key (PEM)")
    .argument("<encrypted-key>", "the downloaded rsa-encrypted.key.blob")
    .option("--kdf <kdf>", "scrypt, pbkdf2 or none", "scrypt")
    .action(async (path: string, master: string, blob: string, options: { kdf: string }) => {
      const environment = commandEnvironment();
      const fingerprint = await importWithMasterKey(
        path,
        master,
        blob,
        parseKdf(options.kdf),
        environment,
      );
      environment.terminal.note(`recovered key ${fingerprint} into ${path}`);
    });
}

export async function keyShowCommand(
  path: string | undefined,
  options: { outputFormat: OutputFormat },
  environment: ClientEnvironment,
): Promise<void> {
  const info = await showKey(path ?? defaultKeyPath(environment.env));
  writeRecord(environment, options.outputFormat, info, [
    ["path", info.path],
    ["kdf", info.kdf],
    ["created", showTime(info.created)],
    ["modified", showTime(info.modified)],
    ["fingerprint", info.fingerprint ?? "-"],
    ["hint", info.hint ?? "-"],
  ]);
}
