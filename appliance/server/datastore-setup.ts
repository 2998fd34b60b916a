import { stat } from "node:fs/promises";
import { join } from "node:path";
import { Datastore } from "../datastore/datastore.js";
import { CHUNK_DIR } from "../datastore/names.js";
import { ConfigError } from "./config/config-errors.js";
import type { DatastoreEntry } from "./config/datastore-config.js";
import { parseTuning } from "./config/datastore-tuning.js";
import type { DatastoreRegistry } from "./datastore-registry.js";

async function isChunkStore(path: string): Promise<boolean> {
  try {
    return (await stat(join(path, CHUNK_DIR))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Makes a datastore usable under `name`: creates the chunk store in its path (which must be
 * absent or empty) or adopts one already there, then adds it to the configuration.
 */
export async function createConfiguredDatastore(
  registry: DatastoreRegistry,
  name: string,
  entry: DatastoreEntry,
  log: (message: string) => void = () => {},
): Promise<void> {
  const syncLevel = parseTuning(entry.tuning ?? "")["sync-level"] ?? "filesystem";
  if (await isChunkStore(entry.path)) {
    log(`reusing the existing chunk store in ${entry.path}`);
    await Datastore.open(entry.path, { name, syncLevel });
  } else {
    log(`creating the chunk store in ${entry.path}`);
    await Datastore.create(entry.path, { name, syncLevel });
  }
  await registry.config.update((file) => {
    if (Object.hasOwn(file.datastore, name)) {
      throw new ConfigError("exists", `datastore ${name} already exists`);
    }
    return { datastore: { ...file.datastore, [name]: entry } };
  });
  log(`datastore ${name} created`);
}
