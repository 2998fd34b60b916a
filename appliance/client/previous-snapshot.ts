import { decodeManifestBlob, MANIFEST_BLOB_NAME } from "../datastore/manifest-file.js";
import { DynamicIndexReader } from "../format/dynamic-index.js";
import { FixedIndexReader } from "../format/fixed-index.js";
import {
  type CryptMode,
  findManifestFile,
  type Manifest,
  verifyManifest,
} from "../format/manifest.js";
import type { BackupWriterClient } from "../protocol/client/backup-writer-client.js";
import type { KnownChunks } from "./chunk-uploader.js";
import type { CryptSetup } from "./crypt-setup.js";

const STORED = Promise.resolve();

/**
 * The previous snapshot's manifest, when there is one this backup may build on: with a key, it
 * must carry this key's fingerprint and a valid signature, else it is ignored (a full backup).
 */
export async function previousManifest(
  writer: BackupWriterClient,
  crypt: CryptSetup,
  note: (line: string) => void,
): Promise<Manifest | undefined> {
  if ((await writer.previousBackupTime()) === null) return undefined;
  try {
    const manifest = decodeManifestBlob(await writer.previous(MANIFEST_BLOB_NAME));
    if (crypt.key) verifyManifest(manifest, crypt.key.cryptConfig);
    return manifest;
  } catch (err) {
    note(`previous manifest not used: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Downloads the previous index of the same name, when it was stored the same way, and marks its
 * chunks known: the server registers them for this session as it sends the index.
 */
export async function learnPreviousIndex(
  writer: BackupWriterClient,
  previous: Manifest | undefined,
  name: string,
  mode: CryptMode,
  known: KnownChunks,
): Promise<number> {
  const entry = previous && findManifestFile(previous, name);
  if (entry === undefined || entry.cryptMode !== mode) return 0;
  const bytes = await writer.previous(name);
  const index = name.endsWith(".fidx")
    ? FixedIndexReader.parse(bytes)
    : DynamicIndexReader.parse(bytes);
  for (let i = 0; i < index.count; i++) {
    const hex = index.digest(i).toString("hex");
    if (!known.has(hex)) known.set(hex, STORED);
  }
  return index.count;
}
