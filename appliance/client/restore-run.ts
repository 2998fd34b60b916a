import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { decodeManifestBlob, MANIFEST_BLOB_NAME } from "../datastore/manifest-file.js";
import { decodeBlob } from "../format/blob.js";
import { DynamicIndexReader } from "../format/dynamic-index.js";
import { FixedIndexReader } from "../format/fixed-index.js";
import type { IndexReader } from "../format/index-file.js";
import type { LoadedKey } from "../format/key-config.js";
import {
  checkManifestFile,
  findManifestFile,
  type Manifest,
  type ManifestFile,
  verifyManifest,
} from "../format/manifest.js";
import { PxarDecoder } from "../format/pxar/decoder.js";
import { limitDownloads } from "../protocol/client/rate-limited-clients.js";
import { ReaderClient } from "../protocol/client/reader-client.js";
import type { ServerAddress } from "../protocol/client/upgrade-connect.js";
import { type RateLimit, TokenBucket } from "../util/token-bucket.js";
import { type ExtractCounters, extractArchive } from "./archive/extractor.js";
import { archiveFileName } from "./archive-spec.js";
import { writeImage, writeToStream } from "./byte-output.js";
import { type SplitArchiveNames, splitArchiveNames } from "./change-detection.js";
import { fetchChunks } from "./chunk-fetcher.js";
import { ClientError } from "./errors.js";
import { formatSnapshotRef, type SnapshotRef } from "./snapshot-ref.js";
import type { Terminal } from "./terminal.js";

export interface RestoreRequest {
  address: ServerAddress;
  store: string;
  ns?: string;
  snapshot: SnapshotRef;
  /** `root.pxar`, `disk.img`, `vm.conf`, or the stored name. */
  archive: string;
  /** A directory (pxar), a file or device (image, blob), or `-` for stdout. */
  target: string;
  key?: LoadedKey;
  patterns?: readonly string[];
  /** `--rate`/`--burst`: paces the bytes downloaded. */
  rateLimit?: RateLimit;
  terminal: Terminal;
  stdout?: Writable;
}

export interface RestoreResult {
  manifest: Manifest;
  file: ManifestFile;
  /** Bytes of the archive or image restored. */
  bytes: number;
  extract?: ExtractCounters;
}

/**
 * Restores one archive of a snapshot (pbs-formats.md §8, reader flow): the manifest checked
 * against the key, the index against the manifest, each chunk against its digest.
 */
export async function runRestore(request: RestoreRequest): Promise<RestoreResult> {
  const started = await ReaderClient.start(request.address, {
    store: request.store,
    ...(request.ns && { ns: request.ns }),
    ...request.snapshot,
  });
  const reader = limitDownloads(started, request.rateLimit && new TokenBucket(request.rateLimit));
  try {
    const snapshot = formatSnapshotRef(request.snapshot);
    const manifest = checkedManifest(
      await reader.download(MANIFEST_BLOB_NAME),
      snapshot,
      request.key,
    );
    const requested = archiveFileName(request.archive);
    const split = splitPairOf(manifest, requested, request.target === "-");
    const name = split?.metadata ?? requested;
    const file = findManifestFile(manifest, name);
    if (file === undefined) {
      const names = manifest.files.map((each) => each.filename).join(", ");
      throw new ClientError(
        "not-found",
        `snapshot ${snapshot} has no archive ${name} (it has ${names})`,
      );
    }
    if (file.cryptMode === "encrypt" && request.key === undefined) {
      throw new ClientError(
        "no-key",
        `${name} of ${snapshot} is encrypted: pass --keyfile with its key`,
      );
    }
    const crypt = file.cryptMode === "encrypt" ? request.key?.cryptConfig : undefined;
    const out = request.stdout ?? process.stdout;
    if (name.endsWith(".blob")) {
      const data = checkedBlob(await reader.download(name), file, crypt);
      const bytes =
        request.target === "-"
          ? await writeToStream(one(data), out)
          : await writeImage(request.target, data.length, one(data));
      return { manifest, file, bytes };
    }
    const index = checkedIndex(await reader.download(name), file, manifest);
    const chunks = (async function* () {
      for await (const chunk of fetchChunks(reader, index, name, crypt ? { crypt } : {}))
        yield chunk.data;
    })();
    if (request.target === "-") return { manifest, file, bytes: await writeToStream(chunks, out) };
    if (name.endsWith(".fidx")) {
      await writeImage(request.target, index.size, chunks);
      return { manifest, file, bytes: index.size };
    }
    let payload: AsyncIterable<Buffer> | undefined;
    let bytes = index.size;
    if (split !== undefined) {
      const payloadFile = findManifestFile(manifest, split.payload)!;
      const payloadIndex = checkedIndex(
        await reader.download(split.payload),
        payloadFile,
        manifest,
      );
      payload = (async function* () {
        const options = crypt ? { crypt } : {};
        for await (const chunk of fetchChunks(reader, payloadIndex, split.payload, options))
          yield chunk.data;
      })();
      bytes += payloadIndex.size;
    }
    const decoder = new PxarDecoder(chunks, payload === undefined ? {} : { payload });
    const extract = await extractArchive(decoder, request.target, {
      ...(request.patterns && { patterns: request.patterns }),
      onWarning: (warning) => request.terminal.note(`warning: ${warning.message}`),
    });
    return { manifest, file, bytes, extract };
  } finally {
    await reader.close().catch(() => {});
  }
}

/**
 * The split pair to restore together: asked for `root.pxar` where the snapshot holds
 * `root.mpxar` + `root.ppxar`, or for either of those into a directory; to stdout, an index
 * named explicitly is written as it is.
 */
function splitPairOf(
  manifest: Manifest,
  name: string,
  toStdout: boolean,
): SplitArchiveNames | undefined {
  const pair = splitArchiveNames(name);
  const listed = [pair.metadata, pair.payload].every((each) => findManifestFile(manifest, each));
  if (!listed) return undefined;
  if (name.endsWith(".pxar.didx") && findManifestFile(manifest, name) === undefined) {
    if (toStdout) {
      throw new ClientError(
        "bad-argument",
        `${name} is stored split: restore it into a directory, or name ${pair.metadata} or ${pair.payload} to write that stream`,
      );
    }
    return pair;
  }
  const half = name === pair.metadata || name === pair.payload;
  return half && !toStdout ? pair : undefined;
}

export function checkedManifest(
  blob: Buffer,
  snapshot: string,
  key: LoadedKey | undefined,
): Manifest {
  let manifest: Manifest;
  try {
    manifest = decodeManifestBlob(blob);
  } catch (err) {
    throw tampered(`the manifest of ${snapshot} is damaged: ${(err as Error).message}`, err);
  }
  if (key !== undefined) {
    try {
      verifyManifest(manifest, key.cryptConfig);
    } catch (err) {
      throw tampered(`the manifest of ${snapshot} fails its check: ${(err as Error).message}`, err);
    }
  }
  return manifest;
}

export function checkedIndex(bytes: Buffer, file: ManifestFile, manifest: Manifest): IndexReader {
  try {
    const index = file.filename.endsWith(".fidx")
      ? FixedIndexReader.parse(bytes)
      : DynamicIndexReader.parse(bytes);
    checkManifestFile(manifest, file.filename, index.computeCsum());
    return index;
  } catch (err) {
    throw tampered(
      `the index ${file.filename} does not match the manifest: ${(err as Error).message}`,
      err,
    );
  }
}

function checkedBlob(
  encoded: Buffer,
  file: ManifestFile,
  crypt: LoadedKey["cryptConfig"] | undefined,
): Buffer {
  const csum = createHash("sha256").update(encoded).digest("hex");
  if (csum !== file.csum || encoded.length !== file.size) {
    throw tampered(`the blob ${file.filename} does not match the manifest`);
  }
  try {
    return decodeBlob(encoded, crypt ? { crypt } : {});
  } catch (err) {
    throw tampered(`the blob ${file.filename} cannot be decoded: ${(err as Error).message}`, err);
  }
}

function tampered(message: string, cause?: unknown): ClientError {
  return new ClientError("tampered", message, {}, cause === undefined ? undefined : { cause });
}

async function* one(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}
