import { homedir } from "node:os";
import { join } from "node:path";

/** `$XDG_CONFIG_HOME/cairn`, else `~/.config/cairn`: keys and remembered fingerprints. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "cairn");
}

/** `$XDG_RUNTIME_DIR/cairn` (gone at logout), else `~/.cache/cairn`: cached tickets. */
export function ticketDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "cairn");
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "cairn");
}

export function defaultKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), "encryption-key.json");
}

export function defaultMasterPublicKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), "master-public.pem");
}

export function fingerprintFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), "fingerprints");
}
