/** File-system types (`statfs` f_type magic numbers) that matter when archiving a tree. */
import { statfs } from "node:fs/promises";

/** Kernel-made trees whose contents are not data; the PBS archiver never descends into them. */
const VIRTUAL = new Map<number, string>([
  [0x42494e4d, "binfmt_misc"],
  [0x63677270, "cgroup2"],
  [0x27e0eb, "cgroup"],
  [0x62656570, "configfs"],
  [0x64626720, "debugfs"],
  [0x1cd1, "devpts"],
  [0xde5e81e4, "efivarfs"],
  [0x65735543, "fusectl"],
  [0x958458f6, "hugetlbfs"],
  [0x19800202, "mqueue"],
  [0x6e667364, "nfsd"],
  [0x9fa0, "proc"],
  [0x6165676c, "pstore"],
  [0x67596969, "rpc_pipefs"],
  [0x73636673, "securityfs"],
  [0xf97cff8c, "selinuxfs"],
  [0x43415d53, "smackfs"],
  [0x62656572, "sysfs"],
  [0x74726163, "tracefs"],
  [0xcafe4a11, "bpf"],
]);

/** Where the PBS archiver reads quota project ids: ext4, XFS, FUSE and ZFS. */
const WITH_PROJECT_IDS = new Set<number>([0xef53, 0x58465342, 0x65735546, 0x2fc12fc1]);

export interface FileSystemInfo {
  readonly type: number;
  /** The name of a virtual file system, or null for one that holds data. */
  readonly virtualName: string | null;
  readonly hasProjectIds: boolean;
}

export async function fileSystemOf(path: string | Buffer): Promise<FileSystemInfo> {
  const { type } = await statfs(path);
  const magic = Number(type) >>> 0;
  return {
    type: magic,
    virtualName: VIRTUAL.get(magic) ?? null,
    hasProjectIds: WITH_PROJECT_IDS.has(magic),
  };
}
