import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import type { AccessControl } from "./auth/access-control.js";
import { setPassword } from "./auth/accounts.js";
import { SUPERUSER_ID } from "./auth/auth-id.js";
import type { DatastoreRegistry } from "./datastore-registry.js";
import { createConfiguredDatastore } from "./datastore-setup.js";

export const EMBEDDED_STORE = "store1";

/** Where the embedded mode keeps everything, below one folder. */
export function embeddedLayout(folder: string) {
  const baseDir = resolve(folder);
  return {
    configDir: join(baseDir, "config"),
    stateDir: join(baseDir, "state"),
    storePath: join(baseDir, EMBEDDED_STORE),
  };
}

export interface EmbeddedSetup {
  /** Set when the superuser got its password now: shown once, never stored in clear. */
  credentials?: { userid: string; password: string };
  storeCreated: boolean;
}

/**
 * First start of the embedded mode: a directory datastore `store1` when none is configured, and a
 * random password for root@pam when it has none.
 */
export async function prepareEmbedded(
  baseDir: string,
  access: AccessControl,
  datastores: DatastoreRegistry,
): Promise<EmbeddedSetup> {
  const setup: EmbeddedSetup = { storeCreated: false };
  if ((await datastores.list()).length === 0) {
    await createConfiguredDatastore(datastores, EMBEDDED_STORE, {
      path: embeddedLayout(baseDir).storePath,
      comment: "created by the embedded mode",
    });
    setup.storeCreated = true;
  }
  const passwords = await access.config.passwords.read();
  if (!passwords.has(SUPERUSER_ID)) {
    const password = randomBytes(12).toString("base64url");
    await setPassword(access.config, SUPERUSER_ID, password, access.passwordCost);
    setup.credentials = { userid: SUPERUSER_ID, password };
  }
  return setup;
}
