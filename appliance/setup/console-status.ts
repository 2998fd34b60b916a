import { statfs } from "node:fs/promises";
import { hostname } from "node:os";
import { datastoreConfigFile, listDatastores } from "../server/config/datastore-config.js";
import { readCertificateInfo } from "../server/tls/certificate-files.js";
import type { CommandRunner } from "../system/command-runner.js";
import { readHostname } from "../system/network/host-files.js";
import { detectZfsCapabilities } from "../system/zfs/capabilities.js";
import { Zpool } from "../system/zfs/zpool.js";
import type { PoolSummary } from "../system/zfs/zpool-list.js";
import { SERVER_PORT, SERVICE_UNIT } from "./apply.js";
import { type TaskSummary, taskSummary } from "./task-summary.js";

export interface DatastoreUsage {
  name: string;
  path: string;
  usedBytes?: number;
  totalBytes?: number;
}

/** What the console dashboard shows; each part answers "unknown" rather than failing the rest. */
export interface ConsoleStatus {
  url: string;
  fingerprint?: string;
  pools: PoolSummary[];
  poolError?: string;
  datastores: DatastoreUsage[];
  /** systemd's word for the server unit: active, inactive, failed, activating… or unknown. */
  service: string;
  tasks: TaskSummary;
}

export interface ConsoleStatusOptions {
  root: string;
  configDir: string;
  /** The server's state directory, where the task index lives. */
  stateDir: string;
}

async function serviceState(runner: CommandRunner): Promise<string> {
  const result = await runner
    .run("systemctl", ["is-active", SERVICE_UNIT], { allowFailure: true })
    .catch(() => undefined);
  return result?.stdout.trim().split("\n")[0] || "unknown";
}

export async function consoleStatus(
  runner: CommandRunner,
  options: ConsoleStatusOptions,
): Promise<ConsoleStatus> {
  const host = (await readHostname(options.root).catch(() => "")) || hostname();
  const status: ConsoleStatus = {
    url: `https://${host}:${SERVER_PORT}`,
    pools: [],
    datastores: [],
    service: await serviceState(runner),
    tasks: await taskSummary(options.stateDir),
  };
  status.fingerprint = await readCertificateInfo(options.configDir)
    .then((info) => info.fingerprint)
    .catch(() => undefined);
  try {
    status.pools = await new Zpool(runner, await detectZfsCapabilities(runner)).list();
  } catch (err) {
    status.poolError = err instanceof Error ? err.message : String(err);
  }
  const file = await datastoreConfigFile(options.configDir)
    .read()
    .catch(() => undefined);
  for (const store of file ? listDatastores(file.value) : []) {
    const usage: DatastoreUsage = { name: store.name, path: store.path };
    const fs = await statfs(store.path).catch(() => undefined);
    if (fs) {
      usage.totalBytes = fs.blocks * fs.bsize;
      usage.usedBytes = (fs.blocks - fs.bfree) * fs.bsize;
    }
    status.datastores.push(usage);
  }
  return status;
}
