/** PBS privilege names the routes of this folder ask for (pbs-formats.md §13). */
export const PRIV = {
  sysAudit: "Sys.Audit",
  sysModify: "Sys.Modify",
  datastoreAudit: "Datastore.Audit",
  datastoreAllocate: "Datastore.Allocate",
  datastoreModify: "Datastore.Modify",
  datastoreRead: "Datastore.Read",
  datastoreVerify: "Datastore.Verify",
  datastoreBackup: "Datastore.Backup",
  datastorePrune: "Datastore.Prune",
  remoteAudit: "Remote.Audit",
  remoteModify: "Remote.Modify",
  remoteRead: "Remote.Read",
} as const;

/** Every datastore privilege: holding any of them makes a datastore visible in lists. */
export const ANY_DATASTORE_PRIVILEGE = [
  PRIV.datastoreAudit,
  PRIV.datastoreModify,
  PRIV.datastoreRead,
  PRIV.datastoreVerify,
  PRIV.datastoreBackup,
  PRIV.datastorePrune,
  PRIV.datastoreAllocate,
];
