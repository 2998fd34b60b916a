/** The server side of the backup and reader protocols; the client side is in ./client/. */
export { BackupSession, type BackupSessionOptions } from "./backup-session.js";
export { backupUpgrade } from "./backup-upgrade.js";
export type {
  BodyRule,
  CallRequest,
  CallResult,
  PreparedCall,
  ProtocolSession,
  SessionCall,
  SessionOutcome,
} from "./call-table.js";
export { ProtocolError, type ProtocolErrorKind } from "./errors.js";
export { BACKUP_PROTOCOL_ID, READER_PROTOCOL_ID } from "./protocol-ids.js";
export { ReaderSession, type ReaderSessionOptions } from "./reader-session.js";
export { readerUpgrade } from "./reader-upgrade.js";
export { DEFAULT_BODY_BUDGET, type ServeOptions, serveSession } from "./serve-session.js";
export type { AcceptedUpgrade } from "./session-task.js";
export type { ProtocolCaller, ProtocolHost, TaskHandle, TaskSpec } from "./upgrade-host.js";
