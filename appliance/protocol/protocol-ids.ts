/** The Upgrade header values that start the two protocols (pbs-formats.md §8). */
export const BACKUP_PROTOCOL_ID = "proxmox-backup-protocol-v1";
export const READER_PROTOCOL_ID = "proxmox-backup-reader-protocol-v1";
