import {
  type BackupGroupName,
  MAX_NAMESPACE_DEPTH,
  namespaceToDisplay,
  parseNamespace,
  validateBackupId,
  validateBackupType,
} from "../datastore/names.js";
import { ReaderClient } from "../protocol/client/reader-client.js";
import type { RemoteEndpoint } from "./remote-config.js";
import { connectRemote, nsParam } from "./remote-connection.js";
import type { SourceSnapshotItem, SyncSource } from "./sync-source.js";

/**
 * A datastore of a remote server as a sync source: listings through its REST API, files and
 * chunks through one reader session per snapshot.
 */
export async function remoteSyncSource(
  remote: RemoteEndpoint,
  remoteStore: string,
): Promise<SyncSource> {
  const { api, address } = await connectRemote(remote);
  const base = `/admin/datastore/${encodeURIComponent(remoteStore)}`;
  return {
    description: `remote ${remote.name} (${remote.host}:${remote.port}), datastore ${remoteStore}`,
    namespaces: async (parent, maxDepth = MAX_NAMESPACE_DEPTH) => {
      const items = (await api.get(`${base}/namespace`, {
        ...(parent.length > 0 && { parent: namespaceToDisplay(parent) }),
        "max-depth": maxDepth,
      })) as { ns: string }[];
      return items.map((item) => parseNamespace(item.ns));
    },
    groups: async (ns) => {
      const items = (await api.get(`${base}/groups`, nsParam(ns))) as {
        "backup-type": string;
        "backup-id": string;
      }[];
      return items.map(
        (item): BackupGroupName => ({
          type: validateBackupType(item["backup-type"]),
          id: validateBackupId(item["backup-id"]),
        }),
      );
    },
    snapshots: async (ns, group) => {
      const items = (await api.get(`${base}/snapshots`, {
        ...nsParam(ns),
        "backup-type": group.type,
        "backup-id": group.id,
      })) as { "backup-time": number; size?: number; protected?: boolean }[];
      // PBS lists a snapshot without size while it is being written
      return items.map(
        (item): SourceSnapshotItem => ({
          time: item["backup-time"],
          finished: item.size !== undefined,
          protected: item.protected === true,
        }),
      );
    },
    open: async (ref) => {
      const reader = await ReaderClient.start(address, {
        store: remoteStore,
        ...(ref.ns.length > 0 && { ns: namespaceToDisplay(ref.ns) }),
        type: ref.type,
        id: ref.id,
        time: ref.time,
      });
      let closing: Promise<void> | undefined;
      return {
        file: (name) => reader.download(name),
        chunk: (digest) => reader.chunk(digest),
        close: () => {
          closing ??= reader.close().catch(() => {});
          return closing;
        },
      };
    },
    close: async () => {},
  };
}
