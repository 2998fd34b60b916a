/** Temp dirs, tools and archive plumbing shared by the archive tests. */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ExecutionContext } from "ava";
import {
  type EncodeTreeOptions,
  type EncodeTreeResult,
  encodeTree,
} from "../../../appliance/client/archive/walker.js";
import type { ArchiveWarning } from "../../../appliance/client/archive/warnings.js";
import { CatalogWriter } from "../../../appliance/format/catalog.js";
import { PxarDecoder } from "../../../appliance/format/pxar/decoder.js";

export const run = promisify(execFile);

export const isRoot = process.getuid?.() === 0;

/** A fresh temp dir removed when the test ends. */
export async function tempDir(t: ExecutionContext, label = "cairn-archive-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function hasCommand(name: string): Promise<boolean> {
  try {
    await run("sh", ["-c", `command -v ${name}`]);
    return true;
  } catch {
    return false;
  }
}

export interface Archived extends EncodeTreeResult {
  readonly archive: Buffer;
  readonly payload: Buffer | null;
  readonly catalog: Buffer | null;
  readonly warnings: ArchiveWarning[];
}

/** Archives `root` into memory, with a catalog for `root.pxar.didx`; split when asked. */
export async function archiveTree(
  root: string,
  options: Omit<EncodeTreeOptions, "payload" | "catalog" | "onWarning"> & {
    split?: boolean;
    withCatalog?: boolean;
  } = {},
): Promise<Archived> {
  const archive: Buffer[] = [];
  const payload: Buffer[] = [];
  const catalogBytes: Buffer[] = [];
  const warnings: ArchiveWarning[] = [];
  const catalog = options.withCatalog
    ? await CatalogWriter.create((piece) => void catalogBytes.push(piece))
    : undefined;
  catalog?.startDirectory("root.pxar.didx");
  const result = await encodeTree(root, (piece) => void archive.push(piece), {
    ...options,
    ...(options.split ? { payload: (piece: Buffer) => void payload.push(piece) } : {}),
    ...(catalog === undefined ? {} : { catalog }),
    onWarning: (warning) => warnings.push(warning),
  });
  if (catalog !== undefined) {
    await catalog.endDirectory();
    await catalog.finish();
  }
  return {
    ...result,
    archive: Buffer.concat(archive),
    payload: options.split ? Buffer.concat(payload) : null,
    catalog: catalog === undefined ? null : Buffer.concat(catalogBytes),
    warnings,
  };
}

/** Hands a buffer over in pieces of `size` bytes, as a chunk stream would. */
export async function* pieces(bytes: Buffer, size = 65_536): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

export function decoderOf(archived: { archive: Buffer; payload: Buffer | null }): PxarDecoder {
  return new PxarDecoder(
    pieces(archived.archive),
    archived.payload === null ? {} : { payload: pieces(archived.payload) },
  );
}

/** Every entry of an archive as "path kind [size]" lines, reading all file contents. */
export async function archiveListing(archived: {
  archive: Buffer;
  payload: Buffer | null;
}): Promise<{ lines: string[]; contents: Map<string, Buffer> }> {
  const lines: string[] = [];
  const contents = new Map<string, Buffer>();
  for await (const item of decoderOf(archived)) {
    if (item.kind === "directory-end") continue;
    if (item.kind === "file") {
      const parts: Buffer[] = [];
      for await (const piece of item.content ?? []) parts.push(Buffer.from(piece));
      contents.set(item.path, Buffer.concat(parts));
      lines.push(`${item.path} file ${item.size}`);
    } else if (item.kind === "hardlink") {
      lines.push(`${item.path} hardlink /${item.target.toString()}`);
    } else {
      lines.push(`${item.path} ${item.kind}`);
    }
  }
  return { lines, contents };
}
