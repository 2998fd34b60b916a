import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { encodeManifestBlob, MANIFEST_BLOB_NAME } from "../datastore/manifest-file.js";
import { encodeBlob } from "../format/blob.js";
import { createKeyConfig } from "../format/key-config.js";
import {
  addManifestFile,
  type BackupType,
  type Manifest,
  newManifest,
  signManifest,
} from "../format/manifest.js";
import { wrapKeyWithMasterKey } from "../format/master-key.js";
import { BackupWriterClient } from "../protocol/client/backup-writer-client.js";
import { limitUploads } from "../protocol/client/rate-limited-clients.js";
import type { ServerAddress } from "../protocol/client/upgrade-connect.js";
import { type RateLimit, TokenBucket } from "../util/token-bucket.js";
import { losesData } from "./archive/warnings.js";
import type { ArchiveSpec } from "./archive-spec.js";
import { BackupProgress } from "./backup-progress.js";
import { CATALOG_NAME, CatalogUpload } from "./catalog-upload.js";
import type { ChangeDetectionMode } from "./change-detection.js";
import type { KnownChunks } from "./chunk-uploader.js";
import type { CryptSetup } from "./crypt-setup.js";
import type { DirtyBitmap } from "./dirty-bitmap.js";
import { uploadImage } from "./image-upload.js";
import type { UploadedIndex } from "./index-upload.js";
import { learnPreviousIndex, previousManifest } from "./previous-snapshot.js";
import { uploadPxar } from "./pxar-upload.js";
import type { ReuseStats } from "./split-encoder.js";
import { uploadSplitPxar } from "./split-pxar-upload.js";
import type { Terminal } from "./terminal.js";
import { addStats, emptyStats, type UploadStats } from "./upload-stats.js";

export const RSA_KEY_BLOB_NAME = "rsa-encrypted.key.blob";

export interface BackupRequest {
  address: ServerAddress;
  store: string;
  ns?: string;
  type: BackupType;
  id: string;
  /** Epoch seconds. */
  time: number;
  archives: readonly ArchiveSpec[];
  crypt: CryptSetup;
  exclude?: readonly string[];
  oneFileSystem?: boolean;
  /** PEM of the master public key: the key is stored wrapped with it in the snapshot. */
  masterPublicKey?: string;
  /** How pxar archives are written and unchanged files found (default legacy). */
  changeDetection?: ChangeDetectionMode;
  /** `--rate`/`--burst`: paces the bytes uploaded. */
  rateLimit?: RateLimit;
  /** `--dirty-bitmap`: the chunks of the (one) image archive changed since the previous backup. */
  dirtyBitmap?: DirtyBitmap;
  terminal: Terminal;
}

/** What making a pxar archive read from disk, and in metadata mode what it re-used. */
export interface ArchiveContentStats {
  bytesRead: number;
  reuse?: ReuseStats;
}

export interface BackupResult {
  manifest: Manifest;
  archives: { name: string; stats: UploadStats; content?: ArchiveContentStats }[];
  total: UploadStats;
  warnings: number;
  /** One message per entry the snapshot lacks wholly or in part (unreadable, read errors…). */
  incomplete: string[];
  summary: string;
}

/**
 * One backup, in PBS's upload order (pbs-formats.md §8): previous manifest and indexes for the
 * known chunks, each archive, the catalog, the wrapped key, the signed manifest, finish.
 */
export async function runBackup(request: BackupRequest): Promise<BackupResult> {
  const { crypt, terminal } = request;
  const started = await BackupWriterClient.start(request.address, {
    store: request.store,
    ...(request.ns && { ns: request.ns }),
    type: request.type,
    id: request.id,
    time: request.time,
  });
  const writer = limitUploads(started, request.rateLimit && new TokenBucket(request.rateLimit));
  try {
    const previous = await previousManifest(writer, crypt, (line) => terminal.note(line));
    const known: KnownChunks = new Map();
    const progress = new BackupProgress(terminal);
    const total = emptyStats();
    const cryptConfig = crypt.mode === "encrypt" ? crypt.key?.cryptConfig : undefined;
    const common = {
      writer,
      known,
      ...(cryptConfig && { crypt: cryptConfig }),
      onChunk: (current: UploadStats) => progress.update(total, current),
    };
    let warnings = 0;
    const incomplete: string[] = [];
    const mode = request.changeDetection ?? "legacy";
    // split archives carry no catalog: their .mpxar serves instead (as with PBS)
    const hasPxar = mode === "legacy" && request.archives.some((spec) => spec.kind === "pxar");
    if (hasPxar) await learnPreviousIndex(writer, previous, CATALOG_NAME, crypt.mode, known);
    const catalog = hasPxar
      ? await CatalogUpload.start({ writer, known, ...(cryptConfig && { crypt: cryptConfig }) })
      : undefined;
    const uploaded: (UploadedIndex & { content?: ArchiveContentStats })[] = [];
    for (const spec of request.archives) {
      if (spec.kind === "pxar" && mode !== "legacy") {
        const split = await uploadSplitPxar({
          ...common,
          mode,
          pxarName: spec.archiveName,
          root: spec.path,
          previous,
          cryptMode: crypt.mode,
          address: request.address,
          store: request.store,
          ...(request.ns && { ns: request.ns }),
          ...(request.exclude && { exclude: request.exclude }),
          ...(request.oneFileSystem !== undefined && { oneFileSystem: request.oneFileSystem }),
          onWarning: (warning) => {
            warnings += 1;
            if (losesData(warning)) incomplete.push(warning.message);
            terminal.note(`warning: ${warning.message}`);
          },
        });
        const bytesRead = split.walk.counters.bytesRead + split.reuse.bytesRead;
        const content = { bytesRead, ...(mode === "metadata" && { reuse: split.reuse }) };
        if (mode === "metadata") terminal.note(reuseSummary(spec.archiveName, split.reuse));
        for (const index of [split.metadata, split.payload]) addStats(total, index.stats);
        uploaded.push({ ...split.metadata, content }, split.payload);
        continue;
      }
      // an image learns its previous index itself (incremental with a dirty bitmap)
      if (spec.kind !== "img") {
        await learnPreviousIndex(writer, previous, spec.archiveName, crypt.mode, known);
      }
      let result: UploadedIndex & { content?: ArchiveContentStats };
      if (spec.kind === "pxar") {
        const pxar = await uploadPxar(spec.archiveName, spec.path, {
          ...common,
          ...(request.exclude && { exclude: request.exclude }),
          ...(request.oneFileSystem !== undefined && { oneFileSystem: request.oneFileSystem }),
          ...(catalog && { catalog: catalog.writer }),
          onWarning: (warning) => {
            warnings += 1;
            if (losesData(warning)) incomplete.push(warning.message);
            terminal.note(`warning: ${warning.message}`);
          },
        });
        result = { ...pxar, content: { bytesRead: pxar.walk.counters.bytesRead } };
      } else if (spec.kind === "img") {
        const { bytesRead, ...image } = await uploadImage(spec.archiveName, spec.path, {
          ...common,
          previous,
          cryptMode: crypt.mode,
          ...(request.dirtyBitmap && { dirtyBitmap: request.dirtyBitmap }),
          note: (line) => {
            warnings += 1;
            terminal.note(line);
          },
        });
        result = { ...image, content: { bytesRead } };
      } else {
        result = await uploadBlobFile(writer, spec, cryptConfig !== undefined ? crypt : undefined);
      }
      addStats(total, result.stats);
      uploaded.push(result);
    }
    if (catalog) {
      const result = await catalog.finish();
      addStats(total, result.stats);
      uploaded.push(result);
    }
    let manifest = newManifest({
      backupType: request.type,
      backupId: request.id,
      backupTime: request.time,
    });
    for (const file of uploaded) {
      manifest = addManifestFile(manifest, {
        filename: file.name,
        cryptMode: crypt.mode,
        size: file.size,
        csum: file.csum,
      });
    }
    if (request.masterPublicKey !== undefined && crypt.key) {
      const blob = await wrappedKeyBlob(crypt, request.masterPublicKey);
      await writer.uploadBlob(RSA_KEY_BLOB_NAME, blob);
      manifest = addManifestFile(manifest, blobEntry(RSA_KEY_BLOB_NAME, blob, "none"));
    }
    if (crypt.key) manifest = signManifest(manifest, crypt.key.cryptConfig);
    await writer.uploadBlob(MANIFEST_BLOB_NAME, encodeManifestBlob(manifest));
    await writer.finish();
    return {
      manifest,
      archives: uploaded.map((file) => ({
        name: file.name,
        stats: file.stats,
        ...(file.content && { content: file.content }),
      })),
      total,
      warnings,
      incomplete,
      summary: progress.summary(total),
    };
  } catch (err) {
    await writer.close().catch(() => {});
    throw err;
  }
}

function reuseSummary(name: string, reuse: ReuseStats): string {
  return (
    `${name}: ${reuse.reusedFiles} unchanged files re-used (${reuse.reusedBytes} bytes, ` +
    `${reuse.paddingBytes} bytes of padding), ${reuse.reencodedFiles} re-read to save padding`
  );
}

/** A `.conf`/`.log` file as a blob (encrypted with the key in encrypt mode). */
async function uploadBlobFile(
  writer: BackupWriterClient,
  spec: ArchiveSpec,
  crypt: CryptSetup | undefined,
): Promise<UploadedIndex> {
  const data = await readFile(spec.path);
  const encoded = encodeBlob(data, crypt?.key ? { crypt: crypt.key.cryptConfig } : {});
  await writer.uploadBlob(spec.archiveName, encoded);
  const stats = {
    ...emptyStats(),
    bytes: data.length,
    chunks: 1,
    uploadedChunks: 1,
    uploadedBytes: data.length,
    encodedBytes: encoded.length,
  };
  return { name: spec.archiveName, size: encoded.length, csum: sha256(encoded), stats };
}

/** The key, unprotected, RSA-wrapped with the master public key, as an uncompressed blob. */
async function wrappedKeyBlob(crypt: CryptSetup, publicPem: string): Promise<Buffer> {
  const config = await createKeyConfig(crypt.key!.rawKey, { kdf: "none" });
  return encodeBlob(wrapKeyWithMasterKey(config, publicPem), { compress: false });
}

function blobEntry(filename: string, encoded: Buffer, cryptMode: "none") {
  return { filename, cryptMode, size: encoded.length, csum: sha256(encoded) };
}

function sha256(data: Buffer): Buffer {
  return createHash("sha256").update(data).digest();
}
