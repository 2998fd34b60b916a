import { readFile } from "node:fs/promises";
import { CairnError } from "../errors.js";
import { type LoadedKey, loadKeyConfig, parseKeyConfig } from "../format/key-config.js";
import { secretFromEnv } from "./secret-env.js";

/**
 * Loads an encryption key file; a protected key takes its passphrase from CAIRN_ENCRYPTION_PASSWORD
 * (or its _FILE/_FD forms) unless one is given.
 */
export async function loadKeyFile(path: string, passphrase?: string): Promise<LoadedKey> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CairnError(
      "CAIRN_E_KEYFILE",
      `cannot read key file ${path}: ${(err as Error).message}`,
    );
  }
  const config = parseKeyConfig(text);
  const secret = config.kdf
    ? (passphrase ?? secretFromEnv("CAIRN_ENCRYPTION_PASSWORD"))
    : undefined;
  return loadKeyConfig(config, secret);
}
