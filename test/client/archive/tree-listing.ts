/**
 * A listing of a directory tree with everything a faithful restore must keep, for comparing a
 * source tree with its restored copy: type, mode, owner, ns mtime, size, content hash, every
 * xattr (ACLs and capabilities included, as raw bytes), link targets, device numbers, and which
 * paths share an inode.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { lgetxattr, llistxattr } from "../../../appliance/native/fsops.js";

export interface ListedEntry {
  readonly path: string;
  readonly type: string;
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeNs: string;
  readonly size?: number;
  readonly sha256?: string;
  readonly target?: string;
  readonly device?: string;
  readonly xattrs: Record<string, string>;
  /** For files with several links: the first path (in listing order) of the inode. */
  readonly linkGroup?: string;
}

// a Map, as object keys written in octal would be keys in decimal
const TYPES = new Map<number, string>([
  [0o140000, "socket"],
  [0o120000, "symlink"],
  [0o100000, "file"],
  [0o060000, "block-device"],
  [0o040000, "directory"],
  [0o020000, "char-device"],
  [0o010000, "fifo"],
]);

export interface ListingOptions {
  /** Paths (from the root, with a leading '/') left out with everything below them. */
  readonly skip?: readonly string[];
}

export async function listTree(root: string, options: ListingOptions = {}): Promise<ListedEntry[]> {
  const entries: ListedEntry[] = [];
  const inodes = new Map<string, string>();
  const visit = async (absolute: Buffer, path: string): Promise<void> => {
    if (options.skip?.includes(path)) return;
    const stat = await lstat(absolute, { bigint: true });
    const mode = Number(stat.mode);
    const type = TYPES.get(mode & 0o170000) ?? "unknown";
    const entry: Record<string, unknown> = {
      path,
      type,
      mode: (mode & 0o7777).toString(8),
      uid: Number(stat.uid),
      gid: Number(stat.gid),
      mtimeNs: stat.mtimeNs.toString(),
      xattrs: readXattrs(absolute),
    };
    if (type === "file") {
      entry.size = Number(stat.size);
      entry.sha256 = await hashFile(absolute);
      if (stat.nlink > 1n) {
        const inode = `${stat.dev}:${stat.ino}`;
        if (!inodes.has(inode)) inodes.set(inode, path);
        entry.linkGroup = inodes.get(inode);
      }
    }
    if (type === "symlink")
      entry.target = (await readlink(absolute, { encoding: "buffer" })).toString("latin1");
    if (type.endsWith("device")) {
      const rdev = stat.rdev;
      entry.device = `${(rdev >> 8n) & 0xfffn}:${(rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)}`;
    }
    entries.push(entry as unknown as ListedEntry);
    if (type !== "directory") return;
    const names = (await readdir(absolute, { encoding: "buffer" })).sort(Buffer.compare);
    for (const name of names) {
      const child = Buffer.concat([absolute, Buffer.from("/"), name]);
      await visit(child, `${path === "/" ? "" : path}/${name.toString("latin1")}`);
    }
  };
  await visit(Buffer.from(root), "/");
  return entries;
}

function readXattrs(path: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of llistxattr(path).sort(Buffer.compare)) {
    out[name.toString("latin1")] = lgetxattr(path, name).toString("hex");
  }
  return out;
}

async function hashFile(path: Buffer): Promise<string> {
  const hash = createHash("sha256");
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash.digest("hex");
}
