import { BACKUP_PROTOCOL_ID } from "../protocol-ids.js";
import type { IndexKind } from "../session-index.js";
import { ProtocolConnection } from "./protocol-connection.js";
import { openUpgradedSession, type ServerAddress } from "./upgrade-connect.js";

/** The snapshot a backup session creates. */
export interface BackupTarget {
  store: string;
  /** Display form `a/b`; absent is the root namespace. */
  ns?: string;
  type: "vm" | "ct" | "host";
  id: string;
  /** Epoch seconds; must be newer than the group's last finished backup. */
  time: number;
  debug?: boolean;
  /** Only for the group host/benchmark; the snapshot is removed afterwards. */
  benchmark?: boolean;
}

/** One encoded chunk and what identifies it. */
export interface ChunkUpload {
  digest: Uint8Array | string;
  /** Plaintext length. */
  size: number;
  encoded: Buffer;
}

/** An index entry: a known chunk and the offset where it starts. */
export interface IndexEntry {
  digest: Uint8Array | string;
  offset: number;
}

export interface IndexClose {
  chunkCount: number;
  size: number;
  csum: Uint8Array | string;
}

const hex = (value: Uint8Array | string) =>
  typeof value === "string" ? value : Buffer.from(value).toString("hex");

/**
 * The client side of one backup session, a method per call (pbs-formats.md §8). Calls may be
 * made concurrently (chunk uploads are pipelined as HTTP/2 streams); appends of one writer must
 * be awaited in order, as their offsets chain.
 */
export class BackupWriterClient {
  private constructor(readonly connection: ProtocolConnection) {}

  static async start(address: ServerAddress, target: BackupTarget): Promise<BackupWriterClient> {
    const h2 = await openUpgradedSession(
      address,
      { id: BACKUP_PROTOCOL_ID, path: "/backup" },
      {
        store: target.store,
        ns: target.ns,
        "backup-type": target.type,
        "backup-id": target.id,
        "backup-time": target.time,
        debug: target.debug ?? false,
        benchmark: target.benchmark ?? false,
      },
    );
    return new BackupWriterClient(new ProtocolConnection(h2));
  }

  async previousBackupTime(): Promise<number | null> {
    return (await this.connection.call("GET", "/previous_backup_time")) as number | null;
  }

  /** A file of the previous snapshot; an index's chunks become known to the session. */
  previous(archiveName: string): Promise<Buffer> {
    return this.connection.download("/previous", { query: { "archive-name": archiveName } });
  }

  async createFixedIndex(name: string, size: number, reuseCsum?: string): Promise<number> {
    const query = { "archive-name": name, size, "reuse-csum": reuseCsum };
    return (await this.connection.call("POST", "/fixed_index", { query })) as number;
  }

  async createDynamicIndex(name: string): Promise<number> {
    const query = { "archive-name": name };
    return (await this.connection.call("POST", "/dynamic_index", { query })) as number;
  }

  /** Uploads a chunk; returns the digest the server stored it under. */
  async uploadChunk(kind: IndexKind, wid: number, chunk: ChunkUpload): Promise<string> {
    const query = {
      wid,
      digest: hex(chunk.digest),
      size: chunk.size,
      "encoded-size": chunk.encoded.length,
    };
    const path = `/${kind}_chunk`;
    return (await this.connection.call("POST", path, { query, body: chunk.encoded })) as string;
  }

  /** Appends known chunks (PBS's client sends up to 64 per call). */
  async appendIndex(kind: IndexKind, wid: number, entries: readonly IndexEntry[]): Promise<void> {
    const body = {
      wid,
      "digest-list": entries.map((entry) => hex(entry.digest)),
      "offset-list": entries.map((entry) => entry.offset),
    };
    await this.connection.call("PUT", `/${kind}_index`, { body });
  }

  async closeIndex(kind: IndexKind, wid: number, close: IndexClose): Promise<void> {
    const query = { wid, "chunk-count": close.chunkCount, size: close.size, csum: hex(close.csum) };
    await this.connection.call("POST", `/${kind}_close`, { query });
  }

  /** A blob, e.g. a config file or, last, the manifest `index.json.blob`. */
  async uploadBlob(name: string, encoded: Buffer): Promise<void> {
    const query = { "file-name": name, "encoded-size": encoded.length };
    await this.connection.call("POST", "/blob", { query, body: encoded });
  }

  /** Sends bytes the server drops (benchmark). */
  async speedtest(data: Buffer): Promise<void> {
    await this.connection.call("POST", "/speedtest", { body: data });
  }

  /** Completes the backup, then ends the connection. */
  async finish(): Promise<void> {
    await this.connection.call("POST", "/finish");
    await this.connection.close();
  }

  /** Ends the connection; a backup not finished is dropped by the server. */
  close(): Promise<void> {
    return this.connection.close();
  }
}
