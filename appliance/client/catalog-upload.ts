import { CatalogWriter } from "../format/catalog.js";
import { chunkStream } from "../format/chunker.js";
import { ByteChannel } from "./byte-channel.js";
import { type IndexUploadOptions, type UploadedIndex, uploadIndex } from "./index-upload.js";

export const CATALOG_NAME = "catalog.pcat1.didx";
/** PBS chunks catalogs with a 512 KiB average. */
const CATALOG_CHUNK_AVG = 512 * 1024;

/** The snapshot's catalog, uploaded while the pxar archives are encoded. */
export class CatalogUpload {
  private constructor(
    readonly writer: CatalogWriter,
    readonly channel: ByteChannel,
    readonly uploading: Promise<UploadedIndex>,
  ) {}

  static async start(options: IndexUploadOptions): Promise<CatalogUpload> {
    const channel = new ByteChannel();
    const uploading = uploadIndex(
      "dynamic",
      CATALOG_NAME,
      chunkStream(channel, { avg: CATALOG_CHUNK_AVG }),
      options,
    ).catch((err: unknown) => {
      channel.fail(err as Error);
      throw err;
    });
    uploading.catch(() => {}); // awaited in finish or dropped with the session
    const writer = await CatalogWriter.create((piece) => channel.push(piece));
    return new CatalogUpload(writer, channel, uploading);
  }

  async finish(): Promise<UploadedIndex> {
    await this.writer.finish();
    this.channel.end();
    return this.uploading;
  }
}
