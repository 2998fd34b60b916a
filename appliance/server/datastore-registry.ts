import { Datastore } from "../datastore/datastore.js";
import { ConfigError } from "./config/config-errors.js";
import {
  type DatastoreConfig,
  type DatastoreConfigFile,
  listDatastores,
} from "./config/datastore-config.js";
import { type DatastoreTuning, parseTuning } from "./config/datastore-tuning.js";

interface OpenStore {
  key: string;
  store: Promise<Datastore>;
}

/**
 * The configured datastores by name: their configuration, and their Datastore objects opened
 * once and reopened when the path or sync level changes.
 */
export class DatastoreRegistry {
  readonly #open = new Map<string, OpenStore>();

  constructor(readonly config: DatastoreConfigFile) {}

  async list(): Promise<DatastoreConfig[]> {
    return listDatastores((await this.config.read()).value);
  }

  async entry(name: string): Promise<DatastoreConfig> {
    const { value } = await this.config.read();
    const entry = Object.hasOwn(value.datastore, name) ? value.datastore[name] : undefined;
    if (entry === undefined) {
      throw new ConfigError("not-found", `datastore ${JSON.stringify(name)} is not configured`, {
        name,
      });
    }
    return { name, ...entry };
  }

  /** The opened datastore `name`, with its tuning. */
  async open(
    name: string,
  ): Promise<{ store: Datastore; config: DatastoreConfig; tuning: DatastoreTuning }> {
    const config = await this.entry(name);
    const tuning = parseTuning(config.tuning ?? "");
    const syncLevel = tuning["sync-level"] ?? "filesystem";
    const key = `${config.path}\0${syncLevel}`;
    let open = this.#open.get(name);
    if (open === undefined || open.key !== key) {
      const store = Datastore.open(config.path, { name, syncLevel });
      open = { key, store };
      this.#open.set(name, open);
      store.catch(() => {
        if (this.#open.get(name) === open) this.#open.delete(name);
      });
    }
    return { store: await open.store, config, tuning };
  }

  forget(name: string): void {
    this.#open.delete(name);
  }
}
