import { once } from "node:events";
import type { Writable } from "node:stream";

/**
 * Where an encoder's bytes go: an async function, awaited before the next write, or a Node
 * Writable, whose backpressure is honoured. Pieces handed over are never touched again.
 */
export type ByteSink = ((chunk: Buffer) => void | Promise<void>) | Writable;

const BATCH_BYTES = 64 * 1024;

/**
 * Counts the bytes written to a sink and batches small items (headers, names, stats) into
 * freshly allocated 64 KiB pieces; large pieces are forwarded as they are, without copying.
 */
export class SinkWriter {
  readonly #send: (chunk: Buffer) => Promise<void>;
  #batch = Buffer.allocUnsafe(BATCH_BYTES);
  #batched = 0;
  #position = 0;

  constructor(sink: ByteSink) {
    this.#send = typeof sink === "function" ? async (chunk) => sink(chunk) : toWritable(sink);
  }

  /** Bytes accepted so far, whether or not they have reached the sink yet. */
  get position(): number {
    return this.#position;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.#position += bytes.length;
    if (bytes.length >= BATCH_BYTES / 2) {
      await this.flush();
      await this.#send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      return;
    }
    if (this.#batched + bytes.length > BATCH_BYTES) await this.flush();
    this.#batch.set(bytes, this.#batched);
    this.#batched += bytes.length;
  }

  /** Hands the batched bytes to the sink. */
  async flush(): Promise<void> {
    if (this.#batched === 0) return;
    const piece = this.#batch.subarray(0, this.#batched);
    this.#batch = Buffer.allocUnsafe(BATCH_BYTES);
    this.#batched = 0;
    await this.#send(piece);
  }
}

function toWritable(stream: Writable): (chunk: Buffer) => Promise<void> {
  return async (chunk) => {
    if (!stream.write(chunk)) await once(stream, "drain");
  };
}
