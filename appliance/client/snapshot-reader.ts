import { MANIFEST_BLOB_NAME } from "../datastore/manifest-file.js";
import type { CryptConfig } from "../format/crypt-config.js";
import type { IndexReader } from "../format/index-file.js";
import type { LoadedKey } from "../format/key-config.js";
import { findManifestFile, type Manifest, type ManifestFile } from "../format/manifest.js";
import type { ReadAt } from "../format/pxar/range-reader.js";
import { ReaderClient } from "../protocol/client/reader-client.js";
import type { ServerAddress } from "../protocol/client/upgrade-connect.js";
import { archiveFileName } from "./archive-spec.js";
import { fetchChunks } from "./chunk-fetcher.js";
import { ClientError } from "./errors.js";
import { checkedIndex, checkedManifest } from "./restore-run.js";
import { formatSnapshotRef, type SnapshotRef } from "./snapshot-ref.js";

export interface SnapshotReaderRequest {
  address: ServerAddress;
  store: string;
  ns?: string;
  snapshot: SnapshotRef;
  key?: LoadedKey;
}

/** Decoded chunks kept for random access: browsing reads the same few chunks again and again. */
const CACHED_CHUNKS = 32;

/**
 * A reader session on one snapshot, its manifest checked against the key: the indexes it lists,
 * read whole or by random access, every chunk checked against its digest.
 */
export class SnapshotReader {
  private constructor(
    private readonly reader: ReaderClient,
    readonly manifest: Manifest,
    readonly name: string,
    private readonly key: LoadedKey | undefined,
  ) {}

  static async open(request: SnapshotReaderRequest): Promise<SnapshotReader> {
    const reader = await ReaderClient.start(request.address, {
      store: request.store,
      ...(request.ns && { ns: request.ns }),
      ...request.snapshot,
    });
    try {
      const name = formatSnapshotRef(request.snapshot);
      const manifest = checkedManifest(
        await reader.download(MANIFEST_BLOB_NAME),
        name,
        request.key,
      );
      return new SnapshotReader(reader, manifest, name, request.key);
    } catch (err) {
      await reader.close().catch(() => {});
      throw err;
    }
  }

  /** The manifest entry of an archive (`root.pxar` or its stored name). */
  file(archive: string): ManifestFile {
    const name = archiveFileName(archive);
    const file = findManifestFile(this.manifest, name);
    if (file === undefined) {
      const names = this.manifest.files.map((each) => each.filename).join(", ");
      throw new ClientError("not-found", `snapshot ${this.name} has no ${name} (it has ${names})`, {
        snapshot: this.name,
        archive: name,
      });
    }
    return file;
  }

  /** The index of an archive, checked against the manifest. */
  async index(archive: string): Promise<IndexReader> {
    const file = this.file(archive);
    this.#crypt(file);
    return checkedIndex(await this.reader.download(file.filename), file, this.manifest);
  }

  /** An archive's bytes, whole in memory (for small ones: the catalog). */
  async readWhole(archive: string): Promise<Buffer> {
    const file = this.file(archive);
    const index = await this.index(archive);
    const crypt = this.#crypt(file);
    const pieces: Buffer[] = [];
    for await (const chunk of fetchChunks(this.reader, index, file.filename, crypt && { crypt }))
      pieces.push(chunk.data);
    return Buffer.concat(pieces);
  }

  /** Random access to an archive's bytes, fetching only the chunks a read touches. */
  async randomAccess(archive: string): Promise<{ readAt: ReadAt; size: number }> {
    const file = this.file(archive);
    const index = await this.index(archive);
    const crypt = this.#crypt(file);
    const cache = new Map<number, Promise<Buffer>>();
    const chunk = (i: number): Promise<Buffer> => {
      let found = cache.get(i);
      if (found === undefined) {
        const only = (n: number) => n === i;
        found = (async () => {
          for await (const fetched of fetchChunks(this.reader, index, file.filename, {
            select: only,
            prefetch: 1,
            ...(crypt && { crypt }),
          }))
            return fetched.data;
          throw new ClientError("io", `chunk #${i} of ${file.filename} was not fetched`);
        })();
        found.catch(() => cache.delete(i));
        if (cache.size >= CACHED_CHUNKS) cache.delete(cache.keys().next().value!);
      } else {
        cache.delete(i); // re-inserted below as the most recently used
      }
      cache.set(i, found);
      return found;
    };
    const readAt: ReadAt = async (offset, length) => {
      const end = Math.min(offset + length, index.size);
      const pieces: Buffer[] = [];
      for (let at = offset; at < end; ) {
        const i = index.chunkIndexAt(at)!;
        const range = index.chunkRange(i);
        const data = await chunk(i);
        const piece = data.subarray(at - range.start, Math.min(end, range.end) - range.start);
        pieces.push(piece);
        at += piece.length;
      }
      return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    };
    return { readAt, size: index.size };
  }

  close(): Promise<void> {
    return this.reader.close();
  }

  #crypt(file: ManifestFile): CryptConfig | undefined {
    if (file.cryptMode !== "encrypt") return undefined;
    if (this.key === undefined) {
      throw new ClientError(
        "no-key",
        `${file.filename} of ${this.name} is encrypted: pass --keyfile with its key`,
      );
    }
    return this.key.cryptConfig;
  }
}
