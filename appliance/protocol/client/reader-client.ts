import { MAX_ENCODED_CHUNK_SIZE } from "../../format/chunk.js";
import { READER_PROTOCOL_ID } from "../protocol-ids.js";
import { ProtocolConnection } from "./protocol-connection.js";
import { openUpgradedSession, type ServerAddress } from "./upgrade-connect.js";

/** The finished snapshot a reader session opens. */
export interface ReaderTarget {
  store: string;
  ns?: string;
  type: "vm" | "ct" | "host";
  id: string;
  time: number;
  debug?: boolean;
}

/**
 * The client side of one restore session: files of the snapshot, and chunks of the indexes
 * downloaded in it. What comes back is as stored; checking it against the manifest is the
 * restore's job.
 */
export class ReaderClient {
  private constructor(readonly connection: ProtocolConnection) {}

  static async start(address: ServerAddress, target: ReaderTarget): Promise<ReaderClient> {
    const h2 = await openUpgradedSession(
      address,
      { id: READER_PROTOCOL_ID, path: "/reader" },
      {
        store: target.store,
        ns: target.ns,
        "backup-type": target.type,
        "backup-id": target.id,
        "backup-time": target.time,
        debug: target.debug ?? false,
      },
    );
    return new ReaderClient(new ProtocolConnection(h2));
  }

  /** A file as stored (blob or index); an index makes its chunks downloadable. */
  download(fileName: string): Promise<Buffer> {
    return this.connection.download("/download", { query: { "file-name": fileName } });
  }

  /** An encoded chunk, as stored. */
  chunk(digest: Uint8Array | string): Promise<Buffer> {
    const hex = typeof digest === "string" ? digest : Buffer.from(digest).toString("hex");
    return this.connection.download("/chunk", {
      query: { digest: hex },
      maxResponseBytes: MAX_ENCODED_CHUNK_SIZE,
    });
  }

  speedtest(): Promise<Buffer> {
    return this.connection.download("/speedtest");
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
