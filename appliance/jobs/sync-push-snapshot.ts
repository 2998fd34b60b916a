/**
 * One local snapshot written to a remote through its backup protocol, bytes as stored: chunks
 * stay encoded (encrypted ones push without the key), each index is rebuilt with the same chunk
 * list and closed with the same checksum, blobs and the manifest are uploaded unchanged.
 */
import {
  CLIENT_LOG_BLOB_NAME,
  decodeManifestBlob,
  MANIFEST_BLOB_NAME,
} from "../datastore/manifest-file.js";
import type { SnapshotReader } from "../datastore/snapshot-reader.js";
import { DynamicIndexReader } from "../format/dynamic-index.js";
import { DEFAULT_FIXED_CHUNK_SIZE, FixedIndexReader } from "../format/fixed-index.js";
import type { IndexReader } from "../format/index-file.js";
import { archiveKind, type Manifest } from "../format/manifest.js";
import type { BackupWriterClient, IndexEntry } from "../protocol/client/backup-writer-client.js";
import type { IndexKind } from "../protocol/session-index.js";
import { JobError } from "./errors.js";
import { inParallel } from "./in-parallel.js";

/** Index entries sent per append call, as PBS's client merges them. */
const APPEND_BATCH = 64;

export interface PushCounters {
  chunksUploaded: number;
  /** Encoded bytes of the uploaded chunks and blobs. */
  bytesUploaded: number;
  /** Index entries the remote already knew: from its previous snapshot or sent earlier in the session. */
  chunksKnown: number;
}

export interface PushSnapshotOptions {
  /** Chunk uploads in flight at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Writes the snapshot `reader` holds through `session`, then finishes it; closes the session on failure. */
export async function pushSnapshot(
  reader: SnapshotReader,
  session: BackupWriterClient,
  counters: PushCounters,
  options: PushSnapshotOptions = {},
): Promise<void> {
  try {
    const manifestBytes = await reader.readFile(MANIFEST_BLOB_NAME);
    const manifest = decodeManifestBlob(manifestBytes);
    const known = await knownFromPrevious(session, manifest);
    for (const file of manifest.files) {
      options.signal?.throwIfAborted();
      const bytes = await reader.readFile(file.filename);
      const kind = archiveKind(file.filename);
      if (kind === "fixed-index" || kind === "dynamic-index") {
        const index = parseIndex(file.filename, kind, bytes);
        await pushIndex({ reader, session, known, counters, options }, file.filename, index);
      } else {
        await session.uploadBlob(file.filename, bytes);
        counters.bytesUploaded += bytes.length;
      }
    }
    const clientLog = await reader.readFile(CLIENT_LOG_BLOB_NAME).catch(() => undefined);
    if (clientLog !== undefined) await session.uploadBlob(CLIENT_LOG_BLOB_NAME, clientLog);
    // the remote checks every listed file against what was written before it accepts the manifest
    await session.uploadBlob(MANIFEST_BLOB_NAME, manifestBytes);
    await session.finish();
  } catch (err) {
    await session.close().catch(() => {});
    throw err;
  }
}

/** The chunks of the remote's previous snapshot's same-named indexes: the known-chunk rule. */
async function knownFromPrevious(
  session: BackupWriterClient,
  manifest: Manifest,
): Promise<Set<string>> {
  const known = new Set<string>();
  if ((await session.previousBackupTime()) === null) return known;
  const previous = decodeManifestBlob(await session.previous(MANIFEST_BLOB_NAME));
  const previousNames = new Set(previous.files.map((file) => file.filename));
  for (const file of manifest.files) {
    const kind = archiveKind(file.filename);
    if (kind === "blob" || kind === undefined || !previousNames.has(file.filename)) continue;
    const index = parseIndex(file.filename, kind, await session.previous(file.filename));
    for (let i = 0; i < index.count; i++) known.add(index.digest(i).toString("hex"));
  }
  return known;
}

function parseIndex(name: string, kind: "fixed-index" | "dynamic-index", bytes: Buffer) {
  const index: IndexReader =
    kind === "fixed-index" ? FixedIndexReader.parse(bytes) : DynamicIndexReader.parse(bytes);
  if (index instanceof FixedIndexReader && index.chunkSize !== DEFAULT_FIXED_CHUNK_SIZE) {
    // the backup protocol creates fixed indexes with 4 MiB chunks only
    throw new JobError(
      "bad-source",
      `${name} has ${index.chunkSize}-byte chunks; the backup protocol carries only ${DEFAULT_FIXED_CHUNK_SIZE}`,
      { filename: name },
    );
  }
  return index;
}

interface IndexPush {
  reader: SnapshotReader;
  session: BackupWriterClient;
  /** Digests the session may append without uploading; grows with every upload. */
  known: Set<string>;
  counters: PushCounters;
  options: PushSnapshotOptions;
}

/** Recreates one index on the remote: unknown chunks uploaded, then appended in order, then closed. */
async function pushIndex(push: IndexPush, name: string, index: IndexReader): Promise<void> {
  const { session, known, counters } = push;
  const kind: IndexKind = index instanceof FixedIndexReader ? "fixed" : "dynamic";
  const wid =
    kind === "fixed"
      ? await session.createFixedIndex(name, index.size)
      : await session.createDynamicIndex(name);
  for (let first = 0; first < index.count; first += APPEND_BATCH) {
    const entries: IndexEntry[] = [];
    const missing = new Map<string, number>();
    for (let i = first; i < Math.min(first + APPEND_BATCH, index.count); i++) {
      const digest = index.digest(i).toString("hex");
      const { start, end } = index.chunkRange(i);
      entries.push({ digest, offset: start });
      if (known.has(digest) || missing.has(digest)) counters.chunksKnown++;
      else missing.set(digest, end - start);
    }
    await inParallel([...missing], push.options.concurrency ?? 4, async ([digest, size]) => {
      push.options.signal?.throwIfAborted();
      const encoded = await push.reader.readChunk(digest);
      await session.uploadChunk(kind, wid, { digest, size, encoded });
      known.add(digest);
      counters.chunksUploaded++;
      counters.bytesUploaded += encoded.length;
    });
    await session.appendIndex(kind, wid, entries);
  }
  const { csum } = index.computeCsum();
  await session.closeIndex(kind, wid, { chunkCount: index.count, size: index.size, csum });
}
