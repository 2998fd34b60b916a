import type { CatalogWriter } from "../format/catalog.js";
import { chunkStream, DEFAULT_CHUNK_AVG } from "../format/chunker.js";
import { type EncodeTreeResult, encodeTree } from "./archive/walker.js";
import type { WarningHandler } from "./archive/warnings.js";
import { ByteChannel } from "./byte-channel.js";
import { type IndexUploadOptions, type UploadedIndex, uploadIndex } from "./index-upload.js";

export interface PxarUploadOptions extends IndexUploadOptions {
  exclude?: readonly string[];
  oneFileSystem?: boolean;
  catalog?: CatalogWriter;
  onWarning?: WarningHandler;
}

export interface UploadedPxar extends UploadedIndex {
  walk: EncodeTreeResult;
}

/**
 * Encodes the tree at `root` as pxar and uploads it as the dynamic index `name`: the encoder
 * writes into a bounded channel, chunking, hashing and uploading read from it concurrently.
 */
export async function uploadPxar(
  name: string,
  root: string,
  options: PxarUploadOptions,
): Promise<UploadedPxar> {
  const channel = new ByteChannel();
  options.catalog?.startDirectory(name);
  const encoding = encodeTree(root, (piece) => channel.push(piece), {
    ...(options.exclude && { exclude: options.exclude }),
    ...(options.oneFileSystem !== undefined && { oneFileSystem: options.oneFileSystem }),
    ...(options.catalog && { catalog: options.catalog }),
    ...(options.onWarning && { onWarning: options.onWarning }),
  }).then(
    (result) => {
      channel.end();
      return result;
    },
    (err: unknown) => {
      channel.fail(err as Error);
      throw err;
    },
  );
  const uploading = uploadIndex(
    "dynamic",
    name,
    chunkStream(channel, { avg: DEFAULT_CHUNK_AVG }),
    options,
  ).catch((err: unknown) => {
    channel.fail(err as Error);
    throw err;
  });
  const [walk, uploaded] = await settleBoth(encoding, uploading);
  await options.catalog?.endDirectory();
  return { ...uploaded, walk };
}

/** Both results, or the first failure once both have stopped (so nothing runs on unobserved). */
export async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === "rejected") throw first.reason;
  if (second.status === "rejected") throw second.reason;
  return [first.value, second.value];
}
