import type { CryptConfig } from "../format/crypt-config.js";
import type { DynamicIndexReader } from "../format/dynamic-index.js";
import type { Manifest } from "../format/manifest.js";
import type { LocatedEntry, PxarAccessor } from "../format/pxar/accessor.js";
import { encodeMetadata } from "../format/pxar/attributes.js";
import type { Metadata, PayloadRef } from "../format/pxar/types.js";
import { ReaderClient } from "../protocol/client/reader-client.js";
import type { ServerAddress } from "../protocol/client/upgrade-connect.js";
import type { SplitArchiveNames } from "./change-detection.js";
import { openSplitArchive } from "./split-archive-reader.js";

/** Directory listings of the previous archive kept at once (the walk's current path and a few). */
const CACHED_DIRECTORIES = 64;

export interface PreviousSplitArchiveSource {
  address: ServerAddress;
  store: string;
  ns?: string;
  manifest: Manifest;
  names: SplitArchiveNames;
  crypt: CryptConfig | undefined;
  /** The previous `.ppxar.didx`, already downloaded in the backup session (its chunks known). */
  payloadIndex: DynamicIndexReader;
}

/**
 * The previous snapshot's split archive, as metadata change detection consults it: its `.mpxar`
 * read by random access in a reader session, directory by directory as the walk meets them.
 */
export class PreviousSplitArchive {
  readonly #listings = new Map<string, Promise<Map<string, LocatedEntry> | null>>();

  private constructor(
    readonly reader: ReaderClient,
    readonly accessor: PxarAccessor,
    readonly payloadIndex: DynamicIndexReader,
  ) {}

  static async open(source: PreviousSplitArchiveSource): Promise<PreviousSplitArchive> {
    const { manifest } = source;
    const reader = await ReaderClient.start(source.address, {
      store: source.store,
      ...(source.ns && { ns: source.ns }),
      type: manifest.backupType,
      id: manifest.backupId,
      time: manifest.backupTime,
    });
    try {
      const accessor = await openSplitArchive(reader, manifest, source.names, source.crypt, false);
      return new PreviousSplitArchive(reader, accessor, source.payloadIndex);
    } catch (err) {
      await reader.close().catch(() => {});
      throw err;
    }
  }

  /**
   * Where the previous payload of the file `name` in directory `dirs` lies, when that file had
   * exactly this metadata (ENTRY, xattrs, ACLs, fcaps, project id: pxar's metadata, as PBS
   * compares it; ctime and inode are not in the archive) and this size; else null.
   */
  async reusablePayload(
    dirs: readonly Buffer[],
    name: Buffer,
    metadata: Metadata,
    size: number,
  ): Promise<PayloadRef | null> {
    const listing = await this.#listing(dirs);
    const old = listing?.get(name.toString("latin1"));
    if (old?.kind !== "file" || old.payloadRef === null || old.size !== size) return null;
    if (old.payloadRef.offset + old.payloadRef.size > this.payloadIndex.size) return null;
    return encodeMetadata(old.metadata).equals(encodeMetadata(metadata)) ? old.payloadRef : null;
  }

  close(): Promise<void> {
    return this.reader.close();
  }

  #listing(dirs: readonly Buffer[]): Promise<Map<string, LocatedEntry> | null> {
    const key = Buffer.concat(dirs.flatMap((dir) => [SLASH, dir])).toString("latin1");
    let listing = this.#listings.get(key);
    if (listing === undefined) {
      listing = this.#list(dirs);
      if (this.#listings.size >= CACHED_DIRECTORIES) {
        this.#listings.delete(this.#listings.keys().next().value!);
      }
      this.#listings.set(key, listing);
    }
    return listing;
  }

  async #list(dirs: readonly Buffer[]): Promise<Map<string, LocatedEntry> | null> {
    const directory = await this.accessor.lookup(Buffer.concat(dirs.flatMap((d) => [SLASH, d])));
    if (directory?.kind !== "directory") return null;
    const entries = new Map<string, LocatedEntry>();
    for (const entry of await this.accessor.list(directory)) {
      entries.set(entry.name.toString("latin1"), entry);
    }
    return entries;
  }
}

const SLASH = Buffer.from("/");
