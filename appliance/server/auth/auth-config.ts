import { mkdir } from "node:fs/promises";
import { LockDirectory } from "../../datastore/locks.js";
import type { AclEntry } from "./acl.js";
import { ACL_FILE, parseAclFile, serializeAclFile } from "./acl-file.js";
import { ConfigFile } from "./config-file.js";
import {
  PASSWORD_FILE,
  parseSecretsFile,
  type SecretsFile,
  serializeSecretsFile,
  TOKEN_SECRET_FILE,
} from "./secrets-file.js";
import {
  emptyUserFile,
  parseUserFile,
  serializeUserFile,
  USER_FILE,
  type UserFile,
} from "./user-file.js";

const CHANGE_LOCK = "access-config";
const CHANGE_LOCK_TIMEOUT_MS = 10_000;

/**
 * The access configuration in one directory: users and tokens (user.json), password hashes
 * (shadow.json), token secret hashes (token.shadow) and the ACL (acl.cfg).
 */
export class AuthConfig {
  readonly users: ConfigFile<UserFile>;
  readonly passwords: ConfigFile<SecretsFile>;
  readonly tokenSecrets: ConfigFile<SecretsFile>;
  readonly acl: ConfigFile<readonly AclEntry[]>;
  readonly #locks: LockDirectory;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string) {
    this.users = new ConfigFile(dir, USER_FILE, {
      parse: parseUserFile,
      serialize: serializeUserFile,
      empty: emptyUserFile,
    });
    this.passwords = new ConfigFile(dir, PASSWORD_FILE, {
      parse: (text) => parseSecretsFile(text, "user"),
      serialize: serializeSecretsFile,
      empty: () => new Map(),
    });
    this.tokenSecrets = new ConfigFile(dir, TOKEN_SECRET_FILE, {
      parse: (text) => parseSecretsFile(text, "token"),
      serialize: serializeSecretsFile,
      empty: () => new Map(),
    });
    this.acl = new ConfigFile(dir, ACL_FILE, {
      parse: parseAclFile,
      serialize: serializeAclFile,
      empty: () => [],
    });
    this.#locks = new LockDirectory(dir);
  }

  /** Opens (creating the directory if needed) and loads every file, so bad content fails early. */
  static async open(dir: string): Promise<AuthConfig> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const config = new AuthConfig(dir);
    await Promise.all([
      config.users.read(),
      config.passwords.read(),
      config.tokenSecrets.read(),
      config.acl.read(),
    ]);
    return config;
  }

  /**
   * Runs a read-modify-write of these files with no other change running at the same time, in
   * this process or another (a flock in the directory).
   */
  change<R>(run: () => Promise<R>): Promise<R> {
    const next = this.#queue.then(async () => {
      const lock = await this.#locks.acquire(CHANGE_LOCK, "exclusive", {
        timeoutMs: CHANGE_LOCK_TIMEOUT_MS,
        purpose: "change the access configuration",
      });
      try {
        return await run();
      } finally {
        lock.release();
      }
    });
    this.#queue = next.catch(() => {});
    return next;
  }
}
