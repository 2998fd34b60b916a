import { copyFile, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { SystemError } from "../errors.js";
import { writeAtomic } from "./host-files.js";
import {
  type InterfaceConfig,
  parseInterfaces,
  renderInterfaces,
  validateInterface,
} from "./interfaces-file.js";

const FILE = "etc/network/interfaces";

async function readOptional(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
}

/**
 * `/etc/network/interfaces` below a root, with changes staged in `interfaces.new` (as PBS does)
 * and the file before the last commit kept as `interfaces.old` for restoring.
 */
export class NetworkConfigFiles {
  readonly path: string;

  constructor(readonly root: string) {
    this.path = join(root, FILE);
  }

  async current(): Promise<InterfaceConfig[]> {
    return parseInterfaces((await readOptional(this.path)) ?? "");
  }

  /** The staged configuration, or undefined when nothing is staged. */
  async pending(): Promise<InterfaceConfig[] | undefined> {
    const text = await readOptional(`${this.path}.new`);
    return text === undefined ? undefined : parseInterfaces(text);
  }

  /** Adds or replaces one interface in the staged configuration (starting from the current one). */
  async stage(config: InterfaceConfig): Promise<InterfaceConfig[]> {
    validateInterface(config);
    const base = (await this.pending()) ?? (await this.current());
    const next = [...base.filter((other) => other.name !== config.name), config];
    await writeAtomic(`${this.path}.new`, renderInterfaces(next));
    return next;
  }

  async stageRemoval(name: string): Promise<InterfaceConfig[]> {
    const base = (await this.pending()) ?? (await this.current());
    if (!base.some((config) => config.name === name)) {
      throw new SystemError("not-found", `interface ${name} is not configured`, {
        interface: name,
      });
    }
    const next = base.filter((config) => config.name !== name);
    await writeAtomic(`${this.path}.new`, renderInterfaces(next));
    return next;
  }

  /** Drops the staged changes. */
  async revert(): Promise<void> {
    await rm(`${this.path}.new`, { force: true });
  }

  /** Makes the staged file current, keeping the previous one; answers the new configuration. */
  async commit(): Promise<InterfaceConfig[]> {
    const staged = await readOptional(`${this.path}.new`);
    if (staged === undefined) throw new SystemError("not-found", "no staged network changes");
    if ((await readOptional(this.path)) !== undefined)
      await copyFile(this.path, `${this.path}.old`);
    await writeAtomic(this.path, staged);
    await rm(`${this.path}.new`, { force: true });
    return parseInterfaces(staged);
  }

  /** Puts the file from before the last commit back; answers it. */
  async restorePrevious(): Promise<InterfaceConfig[]> {
    const old = await readOptional(`${this.path}.old`);
    if (old === undefined) throw new SystemError("not-found", "no previous network configuration");
    await writeAtomic(this.path, old);
    return parseInterfaces(old);
  }
}
