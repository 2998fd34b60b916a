import { join } from "node:path";
import { Datastore } from "../../datastore/index.js";
import type { CommandRunner } from "../command-runner.js";
import { Disks } from "../disks/disks.js";
import { detectZfsCapabilities, type ZfsCapabilities } from "./capabilities.js";
import { validatePoolName } from "./names.js";
import type { RaidLevel } from "./raid-layout.js";
import { createPoolArgs, Zpool } from "./zpool.js";

export const DEFAULT_MOUNT_ROOT = "/mnt/datastore";

export interface ZfsDatastoreRequest {
  /** Pool name, also the datastore name and the directory below the mount root. */
  name: string;
  devices: string[];
  raidlevel: RaidLevel;
  ashift?: number;
  compression?: string;
  /** Make a datastore in the new pool (and register it when `register` is given). */
  addDatastore?: boolean;
}

export interface ZfsDatastoreContext {
  runner: CommandRunner;
  mountRoot?: string;
  capabilities?: ZfsCapabilities;
  /** Creates the datastore in `path` and adds it to the configuration (the server's setup). */
  register?: (name: string, path: string) => Promise<void>;
  /** Passed to Datastore.create when there is no `register`. */
  preallocate?: boolean;
  log?: (message: string) => void;
}

export interface ZfsDatastoreResult {
  pool: string;
  mountpoint: string;
  datastore: boolean;
}

/**
 * A pool over the devices, its root dataset mounted at `<mountRoot>/<name>` with compression and
 * atime on, and optionally a datastore in it. Everything is checked before the pool is made; a
 * failure after it destroys the new pool again, so a retry starts clean.
 */
export async function createZfsDatastore(
  request: ZfsDatastoreRequest,
  context: ZfsDatastoreContext,
): Promise<ZfsDatastoreResult> {
  const { runner, log = () => {} } = context;
  const name = validatePoolName(request.name);
  const mountpoint = join(context.mountRoot ?? DEFAULT_MOUNT_ROOT, name);
  const capabilities = context.capabilities ?? (await detectZfsCapabilities(runner));
  const options = { ...request, mountpoint };
  createPoolArgs(options, capabilities);
  await new Disks(runner).checkDevicesFree(request.devices);
  const zpool = new Zpool(runner, capabilities);
  log(`creating ${request.raidlevel} pool ${name} on ${request.devices.join(", ")}`);
  await zpool.create(options);
  try {
    if (request.addDatastore) {
      log(`creating datastore ${name} in ${mountpoint}`);
      if (context.register) await context.register(name, mountpoint);
      else await Datastore.create(mountpoint, { name, preallocate: context.preallocate ?? true });
    }
  } catch (err) {
    log(`destroying pool ${name} again: ${(err as Error).message}`);
    await zpool.destroy(name).catch(() => {});
    throw err;
  }
  return { pool: name, mountpoint, datastore: request.addDatastore === true };
}
