import type { Readable } from "node:stream";
import { type BodyRule, bodyProblem, bodyTooLong } from "./call-table.js";
import { ProtocolError } from "./errors.js";

/**
 * Reads a request body under its rule: an upload of declared size goes straight into a buffer of
 * that size, a discarded body is dropped as it arrives, and a body that grows past the rule is
 * refused at the first byte too many, without buffering the rest.
 */
export function readStreamBody(stream: Readable, rule: BodyRule): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const exact = rule.exact && !rule.discard ? Buffer.allocUnsafe(rule.maxBytes) : undefined;
    const parts: Buffer[] = [];
    let length = 0;
    const finish = (error: Error | undefined, body?: Buffer) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onClose);
      stream.off("error", onClose);
      if (error) reject(error);
      else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      const next = length + chunk.length;
      if (rule.discard) {
        length = next;
        return;
      }
      if (next > rule.maxBytes) {
        stream.pause();
        finish(bodyTooLong(rule, next));
        return;
      }
      if (exact) chunk.copy(exact, length);
      else parts.push(chunk);
      length = next;
    };
    const onEnd = () => {
      const problem = bodyProblem(rule, length);
      if (problem) finish(problem);
      else
        finish(undefined, rule.discard ? Buffer.alloc(0) : (exact ?? Buffer.concat(parts, length)));
    };
    const onClose = () =>
      finish(
        new ProtocolError("connection-failed", "the request was reset before its body ended", {
          received: length,
        }),
      );
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("close", onClose);
    stream.once("error", onClose);
  });
}
