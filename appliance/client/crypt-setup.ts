import { access } from "node:fs/promises";
import type { LoadedKey } from "../format/key-config.js";
import { CRYPT_MODES, type CryptMode } from "../format/manifest.js";
import { defaultKeyPath } from "./config-paths.js";
import { ClientError } from "./errors.js";
import { loadKeyFile } from "./key-file.js";
import { secretFromEnv } from "./secret-env.js";

/** How a backup treats its data, and the key it uses for that. */
export interface CryptSetup {
  mode: CryptMode;
  key?: LoadedKey;
}

export interface CryptChoice {
  keyfile?: string;
  cryptMode?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * PBS's rules: `--crypt-mode none` uses no key; a mode or `--keyfile` given uses that key (or the
 * default one); with neither, the default key is used when it exists.
 */
export async function resolveCrypt(choice: CryptChoice): Promise<CryptSetup> {
  const mode = choice.cryptMode === undefined ? undefined : parseCryptMode(choice.cryptMode);
  if (mode === "none") {
    if (choice.keyfile !== undefined) {
      throw new ClientError(
        "bad-argument",
        "--keyfile and --crypt-mode none contradict each other",
      );
    }
    return { mode };
  }
  const fallback = defaultKeyPath(choice.env);
  const path = choice.keyfile ?? ((await exists(fallback)) ? fallback : undefined);
  if (path === undefined) {
    if (mode === undefined) return { mode: "none" };
    throw new ClientError(
      "no-key",
      `--crypt-mode ${mode} needs a key: pass --keyfile or create ${fallback}`,
    );
  }
  return { mode: mode ?? "encrypt", key: await unlock(path, choice.env) };
}

/** Loads a key for restore and the like: `--keyfile`, else the default key if present. */
export async function optionalKey(
  keyfile: string | undefined,
  env?: NodeJS.ProcessEnv,
): Promise<LoadedKey | undefined> {
  if (keyfile !== undefined) return unlock(keyfile, env);
  const fallback = defaultKeyPath(env);
  return (await exists(fallback)) ? unlock(fallback, env) : undefined;
}

async function unlock(path: string, env: NodeJS.ProcessEnv | undefined): Promise<LoadedKey> {
  try {
    return await loadKeyFile(path, secretFromEnv("CAIRN_ENCRYPTION_PASSWORD", env));
  } catch (err) {
    throw new ClientError(
      "bad-key",
      `cannot use key ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

export function parseCryptMode(text: string): CryptMode {
  if ((CRYPT_MODES as readonly string[]).includes(text)) return text as CryptMode;
  throw new ClientError(
    "bad-argument",
    `--crypt-mode must be none, encrypt or sign-only, got '${text}'`,
  );
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
