/** Finds chunk boundaries in a byte stream handed over piece by piece. */
export interface BoundaryScanner {
  /**
   * Consumes `data` up to the first boundary and returns its offset (1…data.length), the caller
   * then scanning the rest; or consumes all of `data` and returns −1. Boundaries do not depend on
   * how the stream is split into pieces.
   */
  scan(data: Uint8Array): number;
}

/**
 * Cuts a stream into chunks where `scanner` finds boundaries; what follows the last boundary is the
 * last chunk. A chunk inside one input piece is a view of it, so the source must not reuse a piece
 * once yielded; only chunks that span pieces are copied.
 */
export async function* splitChunks(
  source: AsyncIterable<Uint8Array>,
  scanner: BoundaryScanner,
): AsyncGenerator<Buffer> {
  let pending: Uint8Array[] = [];
  for await (const piece of source) {
    let rest = piece;
    for (let cut = scanner.scan(rest); cut >= 0; cut = scanner.scan(rest)) {
      yield joinPieces(pending, rest.subarray(0, cut));
      pending = [];
      rest = rest.subarray(cut);
    }
    if (rest.length > 0) pending.push(rest);
  }
  if (pending.length > 0) yield joinPieces(pending.slice(0, -1), pending.at(-1)!);
}

function joinPieces(earlier: Uint8Array[], last: Uint8Array): Buffer {
  if (earlier.length === 0) return Buffer.from(last.buffer, last.byteOffset, last.byteLength);
  return Buffer.concat([...earlier, last]);
}
