import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../datastore/atomic-file.js";
import { badConfig } from "./errors.js";

/** How one config file is read and written. `parse` throws an Error saying what is wrong. */
export interface ConfigFormat<T> {
  parse(text: string): T;
  serialize(value: T): string;
  /** The value when the file doesn't exist yet. */
  empty(): T;
}

/**
 * One file of the config directory: parsed and validated on load, cached until the file changes
 * on disk (so edits by other processes are seen), replaced atomically on write.
 */
export class ConfigFile<T> {
  #cached: { version: string; value: T } | undefined;

  constructor(
    readonly dir: string,
    readonly name: string,
    private readonly format: ConfigFormat<T>,
    private readonly mode = 0o600,
  ) {}

  get path(): string {
    return join(this.dir, this.name);
  }

  /** The current content; throws a `CAIRN_E_AUTH_BAD_CONFIG` error naming the file on bad content. */
  async read(): Promise<T> {
    const version = await this.version();
    if (this.#cached?.version === version) return this.#cached.value;
    const value = version === "missing" ? this.format.empty() : await this.load();
    this.#cached = { version, value };
    return value;
  }

  async write(value: T): Promise<void> {
    this.#cached = undefined;
    await writeFileAtomic(this.path, this.format.serialize(value), {
      fsync: true,
      mode: this.mode,
    });
  }

  private async version(): Promise<string> {
    try {
      const info = await stat(this.path);
      return `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
      throw badConfig(this.name, `can't read: ${(err as Error).message}`, err);
    }
  }

  private async load(): Promise<T> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      throw badConfig(this.name, `can't read: ${(err as Error).message}`, err);
    }
    try {
      return this.format.parse(text);
    } catch (err) {
      throw badConfig(this.name, (err as Error).message, err);
    }
  }
}
