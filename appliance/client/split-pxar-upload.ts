import { resolve } from "node:path";
import { chunkStream, DEFAULT_CHUNK_AVG } from "../format/chunker.js";
import { DynamicIndexReader } from "../format/dynamic-index.js";
import { type CryptMode, findManifestFile, type Manifest } from "../format/manifest.js";
import type { BackupWriterClient } from "../protocol/client/backup-writer-client.js";
import type { ServerAddress } from "../protocol/client/upgrade-connect.js";
import { type EncodeTreeResult, encodeTree } from "./archive/walker.js";
import { ByteChannel } from "./byte-channel.js";
import { type ChangeDetectionMode, splitArchiveNames } from "./change-detection.js";
import type { KnownChunks } from "./chunk-uploader.js";
import { type UploadedIndex, uploadIndex } from "./index-upload.js";
import { PayloadChunker } from "./payload-chunker.js";
import { learnPreviousIndex } from "./previous-snapshot.js";
import { PreviousSplitArchive } from "./previous-split-archive.js";
import { type PxarUploadOptions, settleBoth } from "./pxar-upload.js";
import { type ReuseStats, SplitArchiveEncoder } from "./split-encoder.js";

export interface SplitPxarRequest extends Omit<PxarUploadOptions, "catalog"> {
  mode: Exclude<ChangeDetectionMode, "legacy">;
  /** The archive as the user named it, `root.pxar.didx`. */
  pxarName: string;
  root: string;
  /** The previous snapshot, when the backup builds on one. */
  previous: Manifest | undefined;
  cryptMode: CryptMode;
  /** Where to open a reader session on the previous snapshot (metadata mode). */
  address: ServerAddress;
  store: string;
  ns?: string;
}

export interface UploadedSplitPxar {
  metadata: UploadedIndex;
  payload: UploadedIndex;
  walk: EncodeTreeResult;
  reuse: ReuseStats;
}

/**
 * Backs up the tree at `root` as a split archive (pxar-format.md §6–§7): the `.mpxar` chunked as
 * usual, the `.ppxar` through a PayloadChunker; in metadata mode unchanged files re-use the
 * previous `.ppxar`'s chunks, whose index the backup session has registered as known.
 */
export async function uploadSplitPxar(request: SplitPxarRequest): Promise<UploadedSplitPxar> {
  const names = splitArchiveNames(request.pxarName);
  const { writer, known, previous, cryptMode } = request;
  await learnPreviousIndex(writer, previous, names.metadata, cryptMode, known);
  const payloadIndex = await previousPayloadIndex(
    writer,
    previous,
    names.payload,
    cryptMode,
    known,
  );
  const reusable =
    request.mode === "metadata" &&
    payloadIndex !== undefined &&
    findManifestFile(previous!, names.metadata)?.cryptMode === cryptMode;
  const previousArchive = reusable
    ? await PreviousSplitArchive.open({
        address: request.address,
        store: request.store,
        ...(request.ns && { ns: request.ns }),
        manifest: previous!,
        names,
        crypt: request.crypt,
        payloadIndex: payloadIndex!,
      })
    : undefined;
  try {
    return await encodeAndUpload(request, names, previousArchive);
  } finally {
    await previousArchive?.close().catch(() => {});
  }
}

async function encodeAndUpload(
  request: SplitPxarRequest,
  names: { metadata: string; payload: string },
  previous: PreviousSplitArchive | undefined,
): Promise<UploadedSplitPxar> {
  const metadataChannel = new ByteChannel();
  const payloadChannel = new ByteChannel();
  const chunker = new PayloadChunker(DEFAULT_CHUNK_AVG);
  let split: SplitArchiveEncoder | undefined;
  const encoding = encodeTree(request.root, (piece) => metadataChannel.push(piece), {
    payload: (piece) => payloadChannel.push(piece),
    ...(request.exclude && { exclude: request.exclude }),
    ...(request.oneFileSystem !== undefined && { oneFileSystem: request.oneFileSystem }),
    ...(request.onWarning && { onWarning: request.onWarning }),
    wrapEncoder: (encoder) => {
      split = new SplitArchiveEncoder(encoder, {
        chunker,
        ...(previous && { previous }),
        root: Buffer.from(resolve(request.root)),
        ...(request.onWarning && { onWarning: request.onWarning }),
      });
      return split;
    },
  }).then(
    (result) => {
      metadataChannel.end();
      payloadChannel.end();
      return result;
    },
    (err: unknown) => {
      metadataChannel.fail(err as Error);
      payloadChannel.fail(err as Error);
      throw err;
    },
  );
  const failBoth = (err: unknown) => {
    metadataChannel.fail(err as Error);
    payloadChannel.fail(err as Error);
    throw err;
  };
  const uploading = settleBoth(
    uploadIndex(
      "dynamic",
      names.metadata,
      chunkStream(metadataChannel, { avg: DEFAULT_CHUNK_AVG }),
      request,
    ).catch(failBoth),
    uploadIndex("dynamic", names.payload, chunker.chunks(payloadChannel), request).catch(failBoth),
  );
  const [walk, [metadata, payload]] = await settleBoth(encoding, uploading);
  return { metadata, payload, walk, reuse: split!.stats };
}

/** Like learnPreviousIndex, keeping the parsed index: re-use needs its chunk offsets. */
async function previousPayloadIndex(
  writer: BackupWriterClient,
  previous: Manifest | undefined,
  name: string,
  mode: CryptMode,
  known: KnownChunks,
): Promise<DynamicIndexReader | undefined> {
  const entry = previous && findManifestFile(previous, name);
  if (entry === undefined || entry.cryptMode !== mode) return undefined;
  const index = DynamicIndexReader.parse(await writer.previous(name));
  for (let i = 0; i < index.count; i++) {
    const hex = index.digest(i).toString("hex");
    if (!known.has(hex)) known.set(hex, Promise.resolve());
  }
  return index;
}
