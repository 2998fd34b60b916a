import type { IncomingMessage } from "node:http";
import { ApiError } from "./api-errors.js";

/**
 * How much of a refused body is still read (and dropped) so the client sees the 413 instead of
 * a reset connection; beyond this the connection is cut.
 */
export const MAX_DISCARDED_BODY = 32 * 1024 * 1024;

/** `closeConnection`: the rest of the body is too large to drain; the answer must close. */
function tooLarge(limit: number, closeConnection: boolean): ApiError {
  return new ApiError("body-too-large", `the request body is larger than ${limit} bytes`, {
    limit,
    closeConnection,
  });
}

/** Reads and drops the rest of a refused body, cutting the connection past the cap. */
function discardRest(request: IncomingMessage, alreadyRead: number): void {
  let dropped = alreadyRead;
  request.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > MAX_DISCARDED_BODY) request.socket.destroy();
  });
  request.resume();
}

/**
 * Reads the whole body, refusing more than `limit` bytes: at once when Content-Length says so,
 * else as soon as the count passes it.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > limit) {
    const drainable = declared <= MAX_DISCARDED_BODY;
    if (drainable) discardRest(request, 0);
    return Promise.reject(tooLarge(limit, !drainable));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = () => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("aborted", onAborted);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        stop();
        discardRest(request, length);
        reject(tooLarge(limit, false));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, length));
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    const onAborted = () => onError(new Error("the client aborted the request"));
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
    request.on("aborted", onAborted);
  });
}
