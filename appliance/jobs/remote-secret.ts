/**
 * Remote passwords and token secrets are kept sealed in remote.json: AES-256-GCM under a random
 * key in `remote.key` (0600) beside it, so the config file alone (a copy, a support bundle) does
 * not give them away. PBS itself only base64-encodes them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { JobError } from "./errors.js";

export const REMOTE_KEY_FILE = "remote.key";
const PREFIX = "sealed:v1:";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

async function loadKey(configDir: string, create: boolean): Promise<Buffer> {
  const path = join(configDir, REMOTE_KEY_FILE);
  try {
    const key = await readFile(path);
    if (key.length !== KEY_BYTES) {
      throw new JobError("bad-config", `${path} is not a ${KEY_BYTES}-byte key`, { file: path });
    }
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !create) throw err;
  }
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    const handle = await open(path, "wx", 0o600);
    try {
      await handle.writeFile(key);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return key;
  } catch (err) {
    // another process created it first: use theirs
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return loadKey(configDir, false);
    throw err;
  }
}

/** The secret as stored: `sealed:v1:` and base64 of IV, tag and ciphertext. */
export async function sealSecret(configDir: string, secret: string): Promise<string> {
  const key = await loadKey(configDir, true);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64");
}

/** The clear secret of a stored one (a PBS-style plain base64 value is accepted too). */
export async function openSecret(configDir: string, stored: string): Promise<string> {
  if (!stored.startsWith(PREFIX)) return Buffer.from(stored, "base64").toString("utf8");
  const bytes = Buffer.from(stored.slice(PREFIX.length), "base64");
  try {
    const key = await loadKey(configDir, false);
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  } catch (cause) {
    throw new JobError(
      "bad-config",
      `cannot unseal a remote secret with ${join(configDir, REMOTE_KEY_FILE)}: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}
