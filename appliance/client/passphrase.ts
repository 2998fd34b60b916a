import { ClientError } from "./errors.js";
import { secretFromEnv } from "./secret-env.js";
import type { Terminal } from "./terminal.js";

/** The passphrase of a key: CAIRN_ENCRYPTION_PASSWORD (or _FILE/_FD), else asked. */
export async function currentPassphrase(
  terminal: Terminal,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const fromEnv = secretFromEnv("CAIRN_ENCRYPTION_PASSWORD", env);
  if (fromEnv !== undefined) return fromEnv;
  if (!terminal.interactive) {
    throw new ClientError(
      "no-key",
      "the key is protected: set CAIRN_ENCRYPTION_PASSWORD (or its _FILE / _FD forms)",
    );
  }
  return terminal.askHidden("Encryption Key Password: ");
}

/** A new passphrase: from `variable` when set, else asked twice on the terminal. */
export async function newPassphrase(
  terminal: Terminal,
  env: NodeJS.ProcessEnv,
  variable = "CAIRN_ENCRYPTION_PASSWORD",
  what = "Encryption Key Password",
): Promise<string> {
  const fromEnv = secretFromEnv(variable, env);
  if (fromEnv !== undefined) return fromEnv;
  if (!terminal.interactive) {
    throw new ClientError("bad-argument", `no passphrase: set ${variable} or run on a terminal`);
  }
  const first = await terminal.askHidden(`${what}: `);
  const again = await terminal.askHidden(`Verify ${what}: `);
  if (first !== again) throw new ClientError("bad-argument", "the passphrases differ");
  return first;
}
