/**
 * PBS privileges and roles (pbs-formats.md §13). A set of privileges is a bit mask; the bit order
 * follows PBS, though only the names ever leave this process.
 */
export const PRIVILEGE_NAMES = [
  "Sys.Audit",
  "Sys.Modify",
  "Sys.PowerManagement",
  "Datastore.Audit",
  "Datastore.Allocate",
  "Datastore.Modify",
  "Datastore.Read",
  "Datastore.Verify",
  "Datastore.Backup",
  "Datastore.Prune",
  "Permissions.Modify",
  "Remote.Audit",
  "Remote.Modify",
  "Remote.Read",
  "Sys.Console",
  "Tape.Audit",
  "Tape.Modify",
  "Tape.Write",
  "Tape.Read",
  "Realm.Allocate",
] as const;

export type PrivilegeName = (typeof PRIVILEGE_NAMES)[number];

/** A set of privileges as a bit mask. */
export type PrivilegeMask = number;

export const NO_PRIVILEGES: PrivilegeMask = 0;
export const ALL_PRIVILEGES: PrivilegeMask = (1 << PRIVILEGE_NAMES.length) - 1;

/** The bit of one privilege. */
export function privilegeBit(name: PrivilegeName): PrivilegeMask {
  return 1 << PRIVILEGE_NAMES.indexOf(name);
}

export function isPrivilegeName(name: string): name is PrivilegeName {
  return (PRIVILEGE_NAMES as readonly string[]).includes(name);
}

/** The mask holding exactly the named privileges. */
export function privilegeMask(names: readonly PrivilegeName[]): PrivilegeMask {
  return names.reduce((mask, name) => mask | privilegeBit(name), NO_PRIVILEGES);
}

/** The names of the privileges in a mask, in PBS order. */
export function privilegeNames(mask: PrivilegeMask): PrivilegeName[] {
  return PRIVILEGE_NAMES.filter((name) => (mask & privilegeBit(name)) !== 0);
}

export const ROLE_NAMES = [
  "Admin",
  "Audit",
  "NoAccess",
  "DatastoreAdmin",
  "DatastoreReader",
  "DatastoreBackup",
  "DatastorePowerUser",
  "DatastoreAudit",
  "RemoteAudit",
  "RemoteAdmin",
  "RemoteSyncOperator",
  "TapeAudit",
  "TapeAdmin",
  "TapeOperator",
  "TapeReader",
] as const;

export type RoleName = (typeof ROLE_NAMES)[number];

/** The role that grants nothing and, on a path, hides everything inherited from above. */
export const NO_ACCESS_ROLE: RoleName = "NoAccess";

export function isRoleName(name: string): name is RoleName {
  return (ROLE_NAMES as readonly string[]).includes(name);
}

/** What each role grants. */
export const ROLE_PRIVILEGES: Readonly<Record<RoleName, PrivilegeMask>> = {
  Admin: ALL_PRIVILEGES,
  Audit: privilegeMask(["Sys.Audit", "Datastore.Audit"]),
  NoAccess: NO_PRIVILEGES,
  DatastoreAdmin: privilegeMask([
    "Datastore.Audit",
    "Datastore.Modify",
    "Datastore.Read",
    "Datastore.Verify",
    "Datastore.Backup",
    "Datastore.Prune",
  ]),
  DatastoreReader: privilegeMask(["Datastore.Audit", "Datastore.Verify", "Datastore.Read"]),
  DatastoreBackup: privilegeMask(["Datastore.Backup"]),
  DatastorePowerUser: privilegeMask(["Datastore.Backup", "Datastore.Prune"]),
  DatastoreAudit: privilegeMask(["Datastore.Audit"]),
  RemoteAudit: privilegeMask(["Remote.Audit"]),
  RemoteAdmin: privilegeMask(["Remote.Audit", "Remote.Modify", "Remote.Read"]),
  RemoteSyncOperator: privilegeMask(["Remote.Audit", "Remote.Read"]),
  TapeAudit: privilegeMask(["Tape.Audit"]),
  TapeAdmin: privilegeMask(["Tape.Audit", "Tape.Modify", "Tape.Read", "Tape.Write"]),
  TapeOperator: privilegeMask(["Tape.Audit", "Tape.Read", "Tape.Write"]),
  TapeReader: privilegeMask(["Tape.Audit", "Tape.Read"]),
};
