import type { Logger } from "pino";
import type { SnapshotRef } from "../../datastore/snapshots.js";
import type { DatastoreRegistry } from "../datastore-registry.js";
import type { RequestAccess } from "../request-access.js";
import type { TaskManager } from "../tasks/task-manager.js";
import type { CertificateInfo } from "../tls/certificate-info.js";
import type { PemPair } from "../tls/self-signed.js";

/** The certificate operations the API offers; the server reloads TLS after each change. */
export interface CertificateControl {
  info(): Promise<CertificateInfo>;
  install(pair: PemPair): Promise<CertificateInfo>;
  /** Back to a fresh self-signed certificate. */
  regenerate(): Promise<CertificateInfo>;
}

/** What route handlers work with; each route file takes it and returns its routes. */
export interface ServerServices {
  access: RequestAccess;
  datastores: DatastoreRegistry;
  tasks: TaskManager;
  certificates: CertificateControl;
  logger: Logger;
  /** A backup session finished a snapshot (see `datastore/verify-new.ts`). */
  backupFinished?(store: string, ref: SnapshotRef, authId: string): void;
}
