/**
 * Where a push sync writes to: a datastore of a remote server, listed and pruned through its REST
 * API, written through its backup protocol. The push engine sees only this contract.
 */
import {
  type BackupGroupName,
  MAX_NAMESPACE_DEPTH,
  type Namespace,
  namespaceToDisplay,
  parseNamespace,
  validateBackupId,
  validateBackupType,
} from "../datastore/names.js";
import type { SnapshotRef } from "../datastore/snapshots.js";
import { BackupWriterClient } from "../protocol/client/backup-writer-client.js";
import type { RemoteEndpoint } from "./remote-config.js";
import { connectRemote, nsParam } from "./remote-connection.js";

/** One snapshot as the target lists it. */
export interface TargetSnapshotItem {
  time: number;
  finished: boolean;
  protected: boolean;
}

/** One group as the target lists it, with its owner there. */
export interface TargetGroup extends BackupGroupName {
  owner?: string;
}

export interface PushTarget {
  /** For the task log, e.g. `remote siteB (10.0.0.3:8007), datastore store1`. */
  readonly description: string;
  /** Who the remote makes owner of the groups a push creates. */
  readonly authId: string;
  /** `parent` and the namespaces below it, at most `maxDepth` levels down. */
  namespaces(parent: Namespace, maxDepth?: number): Promise<Namespace[]>;
  /** Creates one namespace whose parent exists. */
  createNamespace(ns: Namespace): Promise<void>;
  /** The groups the remote's auth id may see. */
  groups(ns: Namespace): Promise<TargetGroup[]>;
  snapshots(ns: Namespace, group: BackupGroupName): Promise<TargetSnapshotItem[]>;
  /** A backup session creating `ref`; the remote refuses a time not newer than the group's last. */
  startBackup(ref: SnapshotRef): Promise<BackupWriterClient>;
  /** Refused by the remote for a protected snapshot. */
  deleteSnapshot(ref: SnapshotRef): Promise<void>;
  /** Refused by the remote while the group holds a protected snapshot. */
  deleteGroup(ns: Namespace, group: BackupGroupName): Promise<void>;
  /** Refused by the remote while the namespace holds groups. */
  deleteNamespace(ns: Namespace): Promise<void>;
}

/** A datastore of a remote as a push target, as the remote's configured auth id. */
export async function remotePushTarget(
  remote: RemoteEndpoint,
  remoteStore: string,
): Promise<PushTarget> {
  const { api, address } = await connectRemote(remote);
  const base = `/admin/datastore/${encodeURIComponent(remoteStore)}`;
  const groupParams = (ns: Namespace, group: BackupGroupName) => ({
    ...nsParam(ns),
    "backup-type": group.type,
    "backup-id": group.id,
  });
  return {
    description: `remote ${remote.name} (${remote.host}:${remote.port}), datastore ${remoteStore}`,
    authId: remote.authId,
    namespaces: async (parent, maxDepth = MAX_NAMESPACE_DEPTH) => {
      const items = (await api.get(`${base}/namespace`, {
        ...(parent.length > 0 && { parent: namespaceToDisplay(parent) }),
        "max-depth": maxDepth,
      })) as { ns: string }[];
      return items.map((item) => parseNamespace(item.ns));
    },
    createNamespace: async (ns) => {
      await api.post(`${base}/namespace`, {
        name: ns[ns.length - 1],
        ...(ns.length > 1 && { parent: namespaceToDisplay(ns.slice(0, -1)) }),
      });
    },
    groups: async (ns) => {
      const items = (await api.get(`${base}/groups`, nsParam(ns))) as {
        "backup-type": string;
        "backup-id": string;
        owner?: string;
      }[];
      return items.map(
        (item): TargetGroup => ({
          type: validateBackupType(item["backup-type"]),
          id: validateBackupId(item["backup-id"]),
          ...(item.owner !== undefined && { owner: item.owner }),
        }),
      );
    },
    snapshots: async (ns, group) => {
      const items = (await api.get(`${base}/snapshots`, groupParams(ns, group))) as {
        "backup-time": number;
        size?: number;
        protected?: boolean;
      }[];
      // PBS lists a snapshot without size while it is being written
      return items.map((item) => ({
        time: item["backup-time"],
        finished: item.size !== undefined,
        protected: item.protected === true,
      }));
    },
    startBackup: (ref) =>
      BackupWriterClient.start(address, {
        store: remoteStore,
        ...(ref.ns.length > 0 && { ns: namespaceToDisplay(ref.ns) }),
        type: ref.type,
        id: ref.id,
        time: ref.time,
      }),
    deleteSnapshot: async (ref) => {
      await api.delete(`${base}/snapshots`, {
        ...groupParams(ref.ns, ref),
        "backup-time": ref.time,
      });
    },
    deleteGroup: async (ns, group) => {
      await api.delete(`${base}/groups`, groupParams(ns, group));
    },
    deleteNamespace: async (ns) => {
      await api.delete(`${base}/namespace`, { ns: namespaceToDisplay(ns) });
    },
  };
}
