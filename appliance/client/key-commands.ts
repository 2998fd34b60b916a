import { randomBytes } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import { decodeBlob } from "../format/blob.js";
import { formatFingerprint } from "../format/crypt-config.js";
import {
  changePassphrase,
  createKeyConfig,
  type KdfKind,
  type KeyConfig,
  loadKeyConfig,
  parseKeyConfig,
  serializeKeyConfig,
} from "../format/key-config.js";
import { createMasterKey, unwrapWithMasterKey } from "../format/master-key.js";
import { ClientError } from "./errors.js";
import { currentPassphrase, newPassphrase } from "./passphrase.js";
import { writePrivateFile } from "./private-file.js";
import type { Terminal } from "./terminal.js";

export interface KeyContext {
  terminal: Terminal;
  env: NodeJS.ProcessEnv;
}

export function parseKdf(text: string): KdfKind {
  if (text === "scrypt" || text === "pbkdf2" || text === "none") return text;
  throw new ClientError("bad-argument", `--kdf must be scrypt, pbkdf2 or none, got '${text}'`);
}

/** Creates a new random key at `path` (never over an existing file); returns its fingerprint. */
export async function createKey(
  path: string,
  kdf: KdfKind,
  context: KeyContext,
  hint?: string,
): Promise<string> {
  if (await exists(path))
    throw new ClientError("bad-argument", `${path} exists; not overwriting a key`);
  const passphrase =
    kdf === "none" ? undefined : await newPassphrase(context.terminal, context.env);
  const config = await createKeyConfig(randomBytes(32), {
    kdf,
    ...(passphrase !== undefined && { passphrase }),
    ...(hint !== undefined && { hint }),
  });
  await writePrivateFile(path, serializeKeyConfig(config));
  return formatFingerprint(config.fingerprint!);
}

/** Re-protects the key at `path` under a new passphrase (CAIRN_NEW_ENCRYPTION_PASSWORD or asked). */
export async function changeKeyPassphrase(
  path: string,
  kdf: KdfKind | undefined,
  context: KeyContext,
): Promise<void> {
  const config = await readKey(path);
  const old =
    config.kdf === null ? undefined : await currentPassphrase(context.terminal, context.env);
  const target = kdf ?? config.kdf?.kind ?? "scrypt";
  const fresh =
    target === "none"
      ? null
      : await newPassphrase(
          context.terminal,
          context.env,
          "CAIRN_NEW_ENCRYPTION_PASSWORD",
          "New Encryption Key Password",
        );
  const renewed = await changePassphrase(config, old, fresh, { kdf: target });
  await writePrivateFile(path, serializeKeyConfig(renewed));
}

export interface KeyInfo {
  path: string;
  kdf: string;
  created: number;
  modified: number;
  fingerprint: string | null;
  hint: string | null;
}

/** What a key file says about itself, without unlocking it. */
export async function showKey(path: string): Promise<KeyInfo> {
  const config = await readKey(path);
  return {
    path,
    kdf: config.kdf?.kind ?? "none",
    created: config.created,
    modified: config.modified,
    fingerprint: config.fingerprint ? formatFingerprint(config.fingerprint) : null,
    hint: config.hint ?? null,
  };
}

/** The key file framed for printing on paper (and typing back in). */
export async function paperKey(path: string): Promise<string> {
  const text = await readFile(path, "utf8");
  const config = parseKeyConfig(text);
  const pretty = JSON.stringify(JSON.parse(text), null, 2);
  return [
    "-----BEGIN CAIRN BACKUP KEY-----",
    ...(config.fingerprint ? [`fingerprint: ${formatFingerprint(config.fingerprint)}`] : []),
    pretty,
    "-----END CAIRN BACKUP KEY-----",
    "",
  ].join("\n");
}

/** Writes a new RSA master key pair; the private half is encrypted under a password. */
export async function createMasterKeyFiles(
  publicPath: string,
  privatePath: string,
  context: KeyContext,
): Promise<void> {
  for (const path of [publicPath, privatePath]) {
    if (await exists(path))
      throw new ClientError("bad-argument", `${path} exists; not overwriting`);
  }
  const password = await newPassphrase(
    context.terminal,
    context.env,
    "CAIRN_MASTER_KEY_PASSWORD",
    "Master Key Password",
  );
  const pair = await createMasterKey(password);
  await writePrivateFile(privatePath, pair.privatePem);
  await writePrivateFile(publicPath, pair.publicPem);
}

/**
 * Recovers a key from a snapshot's `rsa-encrypted.key.blob` with the master private key, and
 * stores it at `path` under a new passphrase (kdf none leaves it unprotected).
 */
export async function importWithMasterKey(
  path: string,
  masterPrivatePath: string,
  encryptedBlobPath: string,
  kdf: KdfKind,
  context: KeyContext,
): Promise<string> {
  if (await exists(path))
    throw new ClientError("bad-argument", `${path} exists; not overwriting a key`);
  const masterPassword = await newPassphrase(
    context.terminal,
    context.env,
    "CAIRN_MASTER_KEY_PASSWORD",
    "Master Key Password",
  );
  const wrapped = decodeBlob(await readFile(encryptedBlobPath));
  const unwrapped = unwrapWithMasterKey(wrapped, await readFile(masterPrivatePath), masterPassword);
  const { rawKey, fingerprint } = await loadKeyConfig(unwrapped);
  const passphrase =
    kdf === "none" ? undefined : await newPassphrase(context.terminal, context.env);
  const config = await createKeyConfig(rawKey, {
    kdf,
    ...(passphrase !== undefined && { passphrase }),
  });
  await writePrivateFile(path, serializeKeyConfig(config));
  return fingerprint;
}

async function readKey(path: string): Promise<KeyConfig> {
  try {
    return parseKeyConfig(await readFile(path, "utf8"));
  } catch (err) {
    throw new ClientError(
      "bad-key",
      `cannot read key ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
