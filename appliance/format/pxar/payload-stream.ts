/**
 * The `.ppxar` stream of a split archive (pxar-format.md §6): a start marker, then PAYLOAD items
 * at the offsets PAYLOAD_REFs name, with unreferenced padding allowed between them, then a tail
 * marker. Read forward only, as the sequential decoder meets the references.
 */

import { ChunkReader } from "./chunk-reader.js";
import { HEADER_SIZE, itemTypeName, PXAR } from "./constants.js";
import { malformed } from "./errors.js";
import { decodeHeader } from "./header.js";
import type { PayloadRef } from "./types.js";

const LABEL = "payload stream";

export class PayloadStreamReader {
  readonly reader: ChunkReader;
  #started = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.reader = new ChunkReader(source, LABEL);
  }

  /**
   * Moves to the data of the file `ref` describes and checks its PAYLOAD header. `refOffset` is
   * where the PAYLOAD_REF sits in the archive, for errors.
   */
  async open(ref: PayloadRef, refOffset: number): Promise<void> {
    await this.#start();
    const position = this.reader.position;
    if (ref.offset < position) {
      throw malformed(
        "bad-layout",
        `PAYLOAD_REF to ${ref.offset}, behind the payload position ${position}`,
        refOffset,
        { payloadOffset: ref.offset },
      );
    }
    await this.reader.skip(ref.offset - position, "padding before a payload");
    const header = decodeHeader(await this.reader.read(HEADER_SIZE, "PAYLOAD header"), ref.offset);
    if (header.htype !== PXAR.payload || header.contentSize !== ref.size) {
      throw malformed(
        "bad-layout",
        `${LABEL} holds ${itemTypeName(header.htype)} of ${header.contentSize} bytes where PAYLOAD_REF at ${refOffset} expects PAYLOAD of ${ref.size}`,
        ref.offset,
        { stream: LABEL, refOffset },
      );
    }
  }

  /** Reads the rest of the stream and checks that it ends with the tail marker. */
  async finish(): Promise<void> {
    await this.#start();
    const tail = await this.reader.drainKeepingTail(HEADER_SIZE);
    const end = this.reader.position;
    const ok =
      tail.length === HEADER_SIZE &&
      tail.readBigUInt64LE(0) === PXAR.payloadTailMarker &&
      tail.readBigUInt64LE(8) === BigInt(HEADER_SIZE);
    if (!ok) {
      throw malformed(
        "bad-layout",
        `${LABEL} does not end with PAYLOAD_TAIL_MARKER`,
        end - tail.length,
        {
          stream: LABEL,
        },
      );
    }
  }

  async #start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const header = decodeHeader(await this.reader.read(HEADER_SIZE, "start marker"), 0);
    if (header.htype !== PXAR.payloadStartMarker || header.contentSize !== 0) {
      throw malformed("bad-magic", `${LABEL} starts with ${itemTypeName(header.htype)}`, 0, {
        stream: LABEL,
      });
    }
  }
}
