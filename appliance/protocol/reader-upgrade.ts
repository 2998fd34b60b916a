import { ownerMatches } from "../datastore/owner.js";
import { showSnapshot } from "../datastore/snapshots.js";
import { ProtocolError } from "./errors.js";
import { READER_PROTOCOL_ID } from "./protocol-ids.js";
import { ReaderSession } from "./reader-session.js";
import { type AcceptedUpgrade, LogRelay, startSessionTask } from "./session-task.js";
import {
  holdsPrivileges,
  type PrivilegePermission,
  type ProtocolCaller,
  type ProtocolHost,
} from "./upgrade-host.js";
import {
  aclPathOf,
  type ReaderUpgradeParameters,
  readerUpgradeParameters,
  STORE_ACL_PATH,
  snapshotRefOf,
} from "./upgrade-params.js";

/** Either suffices at the door; Backup alone is narrowed to owned groups in accept. */
const permission: PrivilegePermission = {
  kind: "privileges",
  path: STORE_ACL_PATH,
  privileges: ["Datastore.Read", "Datastore.Backup"],
  any: true,
};

/**
 * `GET /api2/json/reader` with `Upgrade: proxmox-backup-reader-protocol-v1`: Datastore.Read, or
 * Datastore.Backup on a group the caller owns; the snapshot stays shared-locked for the session,
 * which runs as a `reader` task.
 */
export function readerUpgrade(host: ProtocolHost) {
  return {
    protocol: READER_PROTOCOL_ID,
    path: "/reader",
    description:
      "Start a restore session: upgrades the connection to the reader protocol over HTTP/2.",
    parameters: readerUpgradeParameters,
    permission,
    accept: (request: { params: ReaderUpgradeParameters; auth: ProtocolCaller }) =>
      acceptReader(host, request.params, request.auth),
  };
}

async function acceptReader(
  host: ProtocolHost,
  params: ReaderUpgradeParameters,
  auth: ProtocolCaller,
): Promise<AcceptedUpgrade> {
  const { store } = await host.datastores.open(params.store);
  const ref = snapshotRefOf(params);
  const mayReadAll = await holdsPrivileges(host, auth, aclPathOf(params.store, ref.ns), [
    "Datastore.Read",
  ]);
  if (!mayReadAll) {
    const owner = await store.getOwner(ref.ns, ref.type, ref.id);
    if (!ownerMatches(owner, auth.authId)) {
      throw new ProtocolError(
        "not-owner",
        `${auth.authId} lacks Datastore.Read and does not own the group of ${showSnapshot(ref)}`,
      );
    }
  }
  const reader = await store.openReader(ref);
  const relay = new LogRelay();
  const session = new ReaderSession(reader, { debug: params.debug ?? false, log: relay.log });
  relay.log(
    `starting restore of ${showSnapshot(ref)} on datastore '${params.store}' for ${auth.authId}`,
  );
  return startSessionTask(host, {
    workerType: "reader",
    workerId: `${params.store}:${ref.type}/${ref.id}/${hex8(ref.time)}`,
    auth,
    session,
    relay,
  });
}

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, "0");
}
