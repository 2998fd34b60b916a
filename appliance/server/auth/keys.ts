import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { link, open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { tempPathFor } from "../../datastore/atomic-file.js";
import { badConfig } from "./errors.js";

/** The ed25519 private key tickets are signed with (PKCS#8 PEM). */
export const AUTH_KEY_FILE = "authkey.key";
/** The HMAC secret of CSRF prevention tokens (base64). */
export const CSRF_KEY_FILE = "csrf.key";

const CSRF_SECRET_BYTES = 32;

export interface AuthKeys {
  ticketSigningKey: KeyObject;
  ticketVerifyKey: KeyObject;
  csrfSecret: Buffer;
}

/** Loads the server's keys from the config directory, creating them on first start. */
export async function loadOrCreateAuthKeys(dir: string): Promise<AuthKeys> {
  const signingPem = await readOrCreate(dir, AUTH_KEY_FILE, () =>
    generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  );
  const csrfText = await readOrCreate(
    dir,
    CSRF_KEY_FILE,
    () => `${randomBytes(CSRF_SECRET_BYTES).toString("base64")}\n`,
  );
  const ticketSigningKey = parseSigningKey(signingPem);
  const csrfSecret = Buffer.from(csrfText.trim(), "base64");
  if (!/^[A-Za-z0-9+/]+=*$/.test(csrfText.trim()) || csrfSecret.length < CSRF_SECRET_BYTES) {
    throw badConfig(CSRF_KEY_FILE, `expected at least ${CSRF_SECRET_BYTES} bytes in base64`);
  }
  return { ticketSigningKey, ticketVerifyKey: createPublicKey(ticketSigningKey), csrfSecret };
}

function parseSigningKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw badConfig(AUTH_KEY_FILE, `not a private key in PEM: ${(err as Error).message}`, err);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw badConfig(AUTH_KEY_FILE, `expected an ed25519 key, found ${key.asymmetricKeyType}`);
  }
  return key;
}

/** The file's text; when missing, creates it so that concurrent starters all end with one key. */
async function readOrCreate(dir: string, name: string, make: () => string): Promise<string> {
  const path = join(dir, name);
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw badConfig(name, `can't read: ${(err as Error).message}`, err);
    }
  }
  const temp = tempPathFor(path);
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(make());
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path); // fails if another process created it first; then we read theirs
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await unlink(temp);
  }
  return readFile(path, "utf8");
}
