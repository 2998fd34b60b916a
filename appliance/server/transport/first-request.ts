import type { Duplex } from "node:stream";

export type FirstRequest =
  /** `bytes` holds everything read so far; the head is its first `headLength` bytes. */
  { kind: "head"; bytes: Buffer; headLength: number } | { kind: "too-large" } | { kind: "gone" };

const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * Reads from a fresh connection until the end of the first request head, without consuming
 * more than was delivered: the caller puts `bytes` back (unshift) for whoever parses next.
 * The socket is left paused.
 */
export function readFirstRequestHead(
  socket: Duplex,
  maxHeadBytes: number,
  timeoutMs: number,
): Promise<FirstRequest> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (result: FirstRequest) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onGone);
      socket.off("close", onGone);
      socket.off("error", onGone);
      socket.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      const bytes = Buffer.concat(chunks, length);
      // search from just before the new chunk: the terminator may straddle chunks
      const end = bytes.indexOf(HEAD_END, Math.max(0, length - chunk.length - 3));
      if (end >= 0 && end + 4 <= maxHeadBytes) {
        finish({ kind: "head", bytes, headLength: end + 4 });
      } else if (length > maxHeadBytes) {
        finish({ kind: "too-large" });
      }
    };
    const onGone = () => finish({ kind: "gone" });
    const timer = setTimeout(onGone, timeoutMs);
    socket.on("data", onData);
    socket.on("end", onGone);
    socket.on("close", onGone);
    socket.on("error", onGone);
  });
}
