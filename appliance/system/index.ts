/** The system layer's public surface: what the server, cairn-manager and the TUI use. */
export {
  type CommandResult,
  type CommandRunner,
  commandFailed,
  execaRunner,
} from "./command-runner.js";
export { type DiskInfo, Disks, type ListDisksOptions } from "./disks/disks.js";
export {
  type BlockDevice,
  type DiskUse,
  diskUse,
  isSystemDisk,
  parseLsblk,
} from "./disks/lsblk.js";
export { parseSmartctl, type SmartAttribute, type SmartReport } from "./disks/smart.js";
export { badInput, SystemError, type SystemErrorKind } from "./errors.js";
export { type ApplyOptions, applyInterfaces, liveInterfaces } from "./network/apply.js";
export { type Cidr, inSubnet, isFqdn, isHostname, parseCidr } from "./network/cidr.js";
export {
  type DnsConfig,
  readDns,
  readHostname,
  readTimezone,
  writeDns,
  writeHostname,
  writeTimezone,
} from "./network/host-files.js";
export {
  type InterfaceConfig,
  type Method,
  parseInterfaces,
  renderInterfaces,
  validateInterface,
  validateInterfaces,
} from "./network/interfaces-file.js";
export {
  type LiveAddress,
  type LiveInterface,
  type LiveRoute,
  parseIpAddr,
  parseIpRoute,
} from "./network/ip-json.js";
export { NetworkConfigFiles } from "./network/network-config.js";
export {
  bestCompression,
  compressionSupported,
  detectZfsCapabilities,
  parsePropertyTable,
  type ZfsCapabilities,
} from "./zfs/capabilities.js";
export { type DatasetInfo, type DatasetSettings, ZfsDatasets } from "./zfs/datasets.js";
export { validateDatasetName, validatePoolName } from "./zfs/names.js";
export { RAID_LEVELS, type RaidLevel, vdevArgs } from "./zfs/raid-layout.js";
export {
  createZfsDatastore,
  DEFAULT_MOUNT_ROOT,
  type ZfsDatastoreContext,
  type ZfsDatastoreRequest,
  type ZfsDatastoreResult,
} from "./zfs/zfs-datastore.js";
export { type CreatePoolOptions, createPoolArgs, Zpool } from "./zfs/zpool.js";
export { type PoolSummary, parseZpoolList } from "./zfs/zpool-list.js";
export {
  type PoolStatus,
  parseZpoolStatus,
  poolDevices,
  type VdevNode,
} from "./zfs/zpool-status.js";
