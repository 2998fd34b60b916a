import type { Datastore } from "../datastore/datastore.js";
import { MAX_NAMESPACE_DEPTH, type Namespace } from "../datastore/names.js";
import type { SourceSnapshot, SyncSource } from "./sync-source.js";

/** Another datastore of this server as a sync source: read under shared snapshot locks. */
export function localSyncSource(store: Datastore, name: string): SyncSource {
  return {
    description: `local datastore ${name}`,
    namespaces: (parent: Namespace, maxDepth = MAX_NAMESPACE_DEPTH) =>
      store.listNamespaces(parent, maxDepth),
    groups: (ns) => store.listGroupNames(ns),
    snapshots: async (ns, group) =>
      (await store.listSnapshots(ns, group)).map((info) => ({
        time: info.time,
        finished: info.finished,
        protected: info.protected,
      })),
    open: async (ref): Promise<SourceSnapshot> => {
      const reader = await store.openReader(ref);
      return {
        file: (name) => reader.readFile(name),
        chunk: (digest) => reader.readChunk(digest),
        close: async () => reader.close(),
      };
    },
    close: async () => {},
  };
}
