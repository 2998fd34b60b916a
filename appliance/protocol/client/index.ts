/** The client side of the backup and reader protocols. */
export {
  type BackupTarget,
  BackupWriterClient,
  type ChunkUpload,
  type IndexClose,
  type IndexEntry,
} from "./backup-writer-client.js";
export { ProtocolConnection } from "./protocol-connection.js";
export { ReaderClient, type ReaderTarget } from "./reader-client.js";
export { certificateFingerprint, connectTls, type ServerTrust } from "./tls-connect.js";
export {
  type ClientCredentials,
  openUpgradedSession,
  type ServerAddress,
} from "./upgrade-connect.js";
