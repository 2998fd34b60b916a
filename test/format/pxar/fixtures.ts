/** Shared test material for the pxar tests: metadata makers, piece splitters, tree encoding and listing. */
import { createHash } from "node:crypto";
import { ENTRY_FLAG } from "../../../appliance/format/pxar/constants.js";
import { PxarDecoder } from "../../../appliance/format/pxar/decoder.js";
import {
  type EncoderEntry,
  type HardlinkTarget,
  PxarEncoder,
  type PxarEncoderOptions,
} from "../../../appliance/format/pxar/encoder.js";
import type { DecodedItem, PxarEntry } from "../../../appliance/format/pxar/entries.js";
import { type Acl, type Metadata, metadataOf } from "../../../appliance/format/pxar/types.js";
import { pseudoRandomBuffer } from "../../helpers/generators.js";

/** Metadata of owner 1000:1000 with the given mode and mtime. */
export function meta(
  mode: number,
  secs = 1_700_000_000,
  nanos = 0,
  extra: Partial<Omit<Metadata, "stat">> = {},
): Metadata {
  return metadataOf({ mode, flags: 0, uid: 1000, gid: 1000, mtime: { secs, nanos } }, extra);
}

/** `bytes` cut into pieces whose sizes cycle through `sizes`. */
export function* pieces(bytes: Uint8Array, sizes: readonly number[]): Generator<Buffer> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield Buffer.from(bytes.subarray(at, at + size));
    at += size;
  }
}

export async function* asyncPieces(bytes: Uint8Array, sizes: readonly number[]) {
  for (const piece of pieces(bytes, sizes)) yield piece;
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

/** A tree to encode: a directory with children, an entry, or a hard link to an earlier path. */
export type TreeItem =
  | { readonly name: string; readonly directory: Metadata; readonly children: readonly TreeItem[] }
  | { readonly name: string; readonly entry: Exclude<EncoderEntry, { kind: "hardlink" }> }
  | { readonly name: string; readonly hardlinkTo: string };

/** Encodes `children` under a root with `root` metadata; returns the archive (and payload). */
export async function encodeTree(
  root: Metadata,
  children: readonly TreeItem[],
  options: Omit<PxarEncoderOptions, "payload"> & { split?: boolean } = {},
): Promise<{ archive: Buffer; payload: Buffer | null }> {
  const archive: Buffer[] = [];
  const payload: Buffer[] = [];
  const encoder = await PxarEncoder.create((chunk) => void archive.push(chunk), root, {
    prelude: options.prelude,
    payload: options.split ? (chunk) => void payload.push(chunk) : undefined,
  });
  const targets = new Map<string, HardlinkTarget>();
  const walk = async (items: readonly TreeItem[], prefix: string): Promise<void> => {
    for (const item of items) {
      const path = `${prefix}/${item.name}`;
      if ("directory" in item) {
        await encoder.beginDirectory(item.name, item.directory);
        await walk(item.children, path);
        await encoder.endDirectory();
      } else if ("hardlinkTo" in item) {
        await encoder.add(item.name, { kind: "hardlink", target: targets.get(item.hardlinkTo)! });
      } else {
        const target = await encoder.add(item.name, item.entry);
        if (target !== null) targets.set(path, target);
      }
    }
  };
  await walk(children, "");
  await encoder.finish();
  return {
    archive: Buffer.concat(archive),
    payload: options.split ? Buffer.concat(payload) : null,
  };
}

/** An entry reduced to comparable facts; file contents become their SHA-256. */
export interface Listed {
  path: string;
  kind: string;
  metadata?: Metadata;
  size?: number;
  sha256?: string | null;
  target?: string;
  device?: { major: number; minor: number };
}

export async function listEntry(entry: PxarEntry): Promise<Listed> {
  const listed: Listed = { path: entry.path, kind: entry.kind };
  if (entry.kind !== "hardlink") listed.metadata = entry.metadata;
  switch (entry.kind) {
    case "file":
      listed.size = entry.size;
      listed.sha256 = entry.content === null ? null : sha256(await collect(entry.content));
      break;
    case "symlink":
    case "hardlink":
      listed.target = entry.target.toString();
      break;
    case "block-device":
    case "char-device":
      listed.device = entry.device;
      break;
  }
  return listed;
}

/** Decodes a whole archive, fed in pieces of the given sizes; directory ends are kept as markers. */
export async function decodeAll(
  archive: Buffer,
  payload: Buffer | null = null,
  sizes: readonly number[] = [4093],
): Promise<Listed[]> {
  const decoder = new PxarDecoder(
    asyncPieces(archive, sizes),
    payload === null ? {} : { payload: asyncPieces(payload, [...sizes].reverse()) },
  );
  const out: Listed[] = [];
  for await (const item of decoder as AsyncIterable<DecodedItem>) {
    out.push(
      item.kind === "directory-end" ? { path: item.path, kind: item.kind } : await listEntry(item),
    );
  }
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** What decoding `children` under `root` must list, built from the tree itself. */
export function expectedListing(root: Metadata, children: readonly TreeItem[]): Listed[] {
  const out: Listed[] = [{ path: "/", kind: "directory", metadata: root }];
  const walk = (items: readonly TreeItem[], prefix: string): void => {
    for (const item of items) {
      const path = `${prefix}/${item.name}`;
      if ("directory" in item) {
        out.push({ path, kind: "directory", metadata: item.directory });
        walk(item.children, path);
        out.push({ path, kind: "directory-end" });
      } else if ("hardlinkTo" in item) {
        out.push({ path, kind: "hardlink", target: item.hardlinkTo.slice(1) });
      } else {
        out.push(expectedEntry(path, item.entry));
      }
    }
  };
  walk(children, "");
  out.push({ path: "/", kind: "directory-end" });
  return out;
}

function expectedEntry(path: string, entry: Exclude<EncoderEntry, { kind: "hardlink" }>): Listed {
  switch (entry.kind) {
    case "file": {
      const bytes = Buffer.concat([...(entry.content as Iterable<Uint8Array>)]);
      return {
        path,
        kind: "file",
        metadata: entry.metadata,
        size: entry.size,
        sha256: sha256(bytes),
      };
    }
    case "reused-file":
      return { path, kind: "file", metadata: entry.metadata, size: entry.size, sha256: null };
    case "symlink":
      return { path, kind: "symlink", metadata: entry.metadata, target: entry.target.toString() };
    case "block-device":
    case "char-device":
      return { path, kind: entry.kind, metadata: entry.metadata, device: entry.device };
    default:
      return { path, kind: entry.kind, metadata: entry.metadata };
  }
}

const FULL_ACL: Acl = {
  users: [
    { uid: 1001, permissions: 6 },
    { uid: 1002, permissions: 4 },
  ],
  groups: [{ gid: 2001, permissions: 5 }],
  groupObj: 5,
  default: null,
  defaultUsers: [],
  defaultGroups: [],
};

const DIRECTORY_ACL: Acl = {
  ...FULL_ACL,
  default: { userObj: 7, groupObj: 5, other: null, mask: 5 },
  defaultUsers: [{ uid: 1001, permissions: 7 }],
  defaultGroups: [{ gid: 2002, permissions: 1 }],
};

export const BIG = pseudoRandomBuffer(5 * 1024 * 1024 + 321, "pxar round trip");
const ODD_PIECES = [1, 7, 65_536, 100_003, 3, 40_000];

export const ROOT = meta(0o40755, 1_700_000_000, 123, {
  xattrs: [{ name: Buffer.from("user.root"), value: Buffer.from("top") }],
  acl: DIRECTORY_ACL,
});

/** Every kind of entry pxar stores, with every kind of metadata somewhere. */
export function everyKindTree(): TreeItem[] {
  const manyFiles: TreeItem[] = [...Array(60).keys()].map((i) => ({
    name: `file-${String(i).padStart(3, "0")}`,
    entry: {
      kind: "file",
      metadata: meta(0o100600, 1_600_000_000 + i),
      size: i,
      content: [Buffer.alloc(i, i)],
    },
  }));
  return [
    {
      name: "Grüße.txt",
      entry: {
        kind: "file",
        metadata: meta(0o100644, 1_700_000_001, 999_999_999, {
          xattrs: [
            { name: Buffer.from("user.comment"), value: Buffer.from("a note") },
            { name: Buffer.from("user.empty"), value: Buffer.alloc(0) },
            { name: Buffer.from("trusted.binary"), value: Buffer.from([0, 1, 2, 255, 0]) },
          ],
          acl: FULL_ACL,
          fcaps: Buffer.from("0100000200200000000000000000000000000000", "hex"),
          quotaProjectId: 42,
        }),
        size: 12,
        content: [Buffer.from("hello "), Buffer.from("world!")],
      },
    },
    {
      name: "big.bin",
      entry: {
        kind: "file",
        metadata: meta(0o100640),
        size: BIG.length,
        content: [...pieces(BIG, ODD_PIECES)],
      },
    },
    { name: "empty", entry: { kind: "file", metadata: meta(0o100644), size: 0, content: [] } },
    {
      name: "old",
      entry: {
        kind: "file",
        metadata: metadataWithFlags(meta(0o104755, -305_112_601, 999_000_000)),
        size: 3,
        content: [Buffer.from("old")],
      },
    },
    {
      name: "dev",
      directory: meta(0o40755),
      children: [
        {
          name: "sda",
          entry: { kind: "block-device", metadata: meta(0o60660), device: { major: 8, minor: 0 } },
        },
        {
          name: "big-numbers",
          entry: {
            kind: "char-device",
            metadata: meta(0o20600),
            device: { major: 0xabcd_1234, minor: 0xdcba_5678 },
          },
        },
        { name: "pipe", entry: { kind: "fifo", metadata: meta(0o10644) } },
        { name: "socket", entry: { kind: "socket", metadata: meta(0o140755) } },
      ],
    },
    {
      name: "nested",
      directory: meta(0o42775, 1_700_000_002, 0, { acl: DIRECTORY_ACL, quotaProjectId: 7 }),
      children: [
        { name: "empty-dir", directory: meta(0o40700), children: [] },
        {
          name: "deeper",
          directory: meta(0o41777),
          children: [
            {
              name: "target",
              entry: {
                kind: "file",
                metadata: meta(0o100644),
                size: 4,
                content: [Buffer.from("link")],
              },
            },
            { name: "fifo", entry: { kind: "fifo", metadata: meta(0o10600) } },
          ],
        },
        { name: "link-to-target", hardlinkTo: "/nested/deeper/target" },
        {
          name: "sym",
          entry: { kind: "symlink", metadata: meta(0o120777), target: "deeper/target" },
        },
      ],
    },
    { name: "root-link", hardlinkTo: "/nested/deeper/target" },
    { name: "big-link", hardlinkTo: "/big.bin" },
    {
      name: "dangling",
      entry: { kind: "symlink", metadata: meta(0o120777), target: Buffer.from([0x2e, 0xff, 0xfe]) },
    },
    { name: "many", directory: meta(0o40755), children: manyFiles },
  ];
}

function metadataWithFlags(base: ReturnType<typeof meta>) {
  return { ...base, stat: { ...base.stat, flags: ENTRY_FLAG.immutable | ENTRY_FLAG.nodump } };
}
