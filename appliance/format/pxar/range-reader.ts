import { HEADER_SIZE, itemTypeName } from "./constants.js";
import type { ItemSource } from "./entry-body.js";
import { malformed } from "./errors.js";
import { decodeHeader, type ItemHeader } from "./header.js";

/**
 * Reads `length` bytes at `offset` of an archive (e.g. through a dynamic index, fetching only the
 * chunks that cover the range). May return fewer bytes only at the end of the archive.
 */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

const WINDOW = 4096;

/**
 * Random access to one stream of known size, with a small read-ahead window so that walking the
 * many tiny items of an entry costs one read instead of one per item.
 */
export class RangeReader {
  #window: Buffer = Buffer.alloc(0);
  #windowStart = 0;

  constructor(
    private readonly readAt: ReadAt,
    readonly size: number,
    private readonly label: string,
  ) {}

  /** Exactly `length` bytes at `offset`; a range past the end names `what`. */
  async bytes(offset: number, length: number, what: string): Promise<Buffer> {
    if (offset < 0 || offset + length > this.size) {
      throw malformed(
        "truncated",
        `${what} of ${length} bytes lies past the ${this.label}'s end`,
        offset,
        { size: this.size },
      );
    }
    const inWindow = offset - this.#windowStart;
    if (inWindow >= 0 && inWindow + length <= this.#window.length) {
      return this.#window.subarray(inWindow, inWindow + length);
    }
    if (length > WINDOW) return this.#read(offset, length, what);
    this.#window = await this.#read(offset, Math.min(WINDOW, this.size - offset), what);
    this.#windowStart = offset;
    return this.#window.subarray(0, length);
  }

  /** The item header at `offset`. */
  async header(offset: number, what: string): Promise<ItemHeader> {
    return decodeHeader(await this.bytes(offset, HEADER_SIZE, what), offset);
  }

  /** Items read in sequence from `start`, the range ending at `end`. */
  items(start: number, end: number): ItemSource & { readonly position: number } {
    let position = start;
    return {
      get position() {
        return position;
      },
      nextHeader: async (what) => {
        if (position >= end) return null;
        if (position + HEADER_SIZE > end) {
          throw malformed("bad-layout", `${what} overruns its entry's range`, position, { end });
        }
        const header = await this.header(position, what);
        position += HEADER_SIZE;
        return header;
      },
      content: async (header) => {
        const what = itemTypeName(header.htype);
        if (position + header.contentSize > end) {
          throw malformed("bad-layout", `${what} overruns its entry's range`, header.offset, {
            end,
          });
        }
        const content = await this.bytes(position, header.contentSize, what);
        position += header.contentSize;
        return content;
      },
    };
  }

  async #read(offset: number, length: number, what: string): Promise<Buffer> {
    const got = await this.readAt(offset, length);
    if (got.length < length) {
      throw malformed(
        "truncated",
        `${this.label} read of ${what} returned ${got.length} of ${length} bytes`,
        offset,
      );
    }
    return Buffer.from(got.buffer, got.byteOffset, length);
  }
}
