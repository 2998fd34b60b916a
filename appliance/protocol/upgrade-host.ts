import type { Datastore } from "../datastore/datastore.js";
import type { SnapshotRef } from "../datastore/snapshots.js";
import { statusOf } from "./errors.js";

/**
 * What the upgrade handlers need of the server, described by shape: the server's services
 * satisfy it as they are, and this layer imports nothing from the one above it.
 */

/** The caller as the server authenticated it. */
export interface ProtocolCaller {
  /** `user@realm` or `user@realm!token`. */
  authId: string;
  userId: string;
  tokenName?: string;
}

/** Privileges on an ACL path whose `{name}` placeholders are filled from the parameters. */
export interface PrivilegePermission {
  kind: "privileges";
  path: string;
  privileges: readonly string[];
  any?: boolean;
}

/** A running task's side: its id, its stop signal and its log. */
export interface TaskHandle {
  readonly upid: string;
  readonly signal: AbortSignal;
  log(message: string): void;
}

export interface TaskSpec {
  type: string;
  id?: string;
  authId: string;
  run(task: TaskHandle): Promise<void>;
}

export interface ProtocolHost {
  access: {
    /** Throws 403 (or returns false) when the caller lacks the permission. */
    checkPermission(
      auth: ProtocolCaller | undefined,
      permission: PrivilegePermission,
      params: Readonly<Record<string, unknown>>,
    ): unknown;
  };
  datastores: { open(name: string): Promise<{ store: Datastore }> };
  /** Without it sessions run as no task. */
  tasks?: { spawn(spec: TaskSpec): Promise<string> };
  logger?: { error(details: object, message: string): void };
  /** A backup session finished its snapshot (the server starts verify-new here). */
  backupFinished?(store: string, ref: SnapshotRef, authId: string): void;
}

/** Whether the caller holds every one of `privileges` on a concrete ACL path. */
export async function holdsPrivileges(
  host: ProtocolHost,
  auth: ProtocolCaller,
  path: string,
  privileges: readonly string[],
): Promise<boolean> {
  try {
    const verdict = await host.access.checkPermission(
      auth,
      { kind: "privileges", path, privileges },
      {},
    );
    return verdict !== false;
  } catch (err) {
    if (statusOf(err) === 403) return false;
    throw err;
  }
}
