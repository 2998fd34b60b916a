import { showSnapshot } from "../datastore/snapshots.js";
import { BackupSession } from "./backup-session.js";
import { ProtocolError } from "./errors.js";
import { BACKUP_PROTOCOL_ID } from "./protocol-ids.js";
import { type AcceptedUpgrade, LogRelay, startSessionTask } from "./session-task.js";
import type { PrivilegePermission, ProtocolCaller, ProtocolHost } from "./upgrade-host.js";
import {
  type BackupUpgradeParameters,
  backupUpgradeParameters,
  namespaceOf,
  STORE_ACL_PATH,
} from "./upgrade-params.js";

const permission: PrivilegePermission = {
  kind: "privileges",
  path: STORE_ACL_PATH,
  privileges: ["Datastore.Backup"],
};

/**
 * `GET /api2/json/backup` with `Upgrade: proxmox-backup-protocol-v1`, in the shape the server's
 * upgrade registry takes: Datastore.Backup on the store (and namespace), then the datastore's
 * own checks — one backup per group, owner (a new group is the caller's), a time newer than the
 * last finished snapshot — and a `backup` task for the session.
 */
export function backupUpgrade(host: ProtocolHost) {
  return {
    protocol: BACKUP_PROTOCOL_ID,
    path: "/backup",
    description:
      "Start a backup session: upgrades the connection to the backup protocol over HTTP/2.",
    parameters: backupUpgradeParameters,
    permission,
    accept: (request: { params: BackupUpgradeParameters; auth: ProtocolCaller }) =>
      acceptBackup(host, request.params, request.auth),
  };
}

async function acceptBackup(
  host: ProtocolHost,
  params: BackupUpgradeParameters,
  auth: ProtocolCaller,
): Promise<AcceptedUpgrade> {
  const type = params["backup-type"];
  const id = params["backup-id"];
  const benchmark = params.benchmark ?? false;
  const benchmarkGroup = type === "host" && id === "benchmark";
  if (benchmarkGroup !== benchmark) {
    throw new ProtocolError(
      "bad-parameter",
      benchmark
        ? "benchmark is only allowed on the group host/benchmark"
        : "the group host/benchmark is only for benchmarks (benchmark=1)",
    );
  }
  const { store } = await host.datastores.open(params.store);
  const ns = namespaceOf(params);
  const writer = await store.beginBackup({
    ns,
    type,
    id,
    time: params["backup-time"],
    owner: auth.authId,
  });
  const relay = new LogRelay();
  const session = new BackupSession(writer, {
    benchmark,
    debug: params.debug ?? false,
    log: relay.log,
  });
  relay.log(
    `starting new backup on datastore '${params.store}' from ${auth.authId}: ${showSnapshot(writer.ref)}`,
  );
  const previous = writer.previous();
  relay.log(previous ? `previous backup: ${showSnapshot(previous.ref)}` : "no previous backup");
  return startSessionTask(host, {
    workerType: "backup",
    workerId: `${params.store}:${type}/${id}`,
    auth,
    session,
    relay,
    ...(!benchmark && {
      onSuccess: () => host.backupFinished?.(params.store, writer.ref, auth.authId),
    }),
  });
}
