import http2, {
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import { CairnError } from "../errors.js";
import { ByteBudget } from "./byte-budget.js";
import type { CallResult, ProtocolSession, SessionOutcome } from "./call-table.js";
import { statusOf } from "./errors.js";
import { readStreamBody } from "./stream-body.js";

const MiB = 1024 * 1024;
/** Request bodies held in memory at once per session: four full chunks in flight. */
export const DEFAULT_BODY_BUDGET = 64 * MiB;
/** After refusing a body, at most this much more is read and dropped before the stream is reset. */
const DRAIN_LIMIT = 16 * MiB;

export interface ServeOptions {
  bodyBudget?: number;
  /** Errors answered with a 5xx: the server's own failures, worth a log line. */
  onServerError?(err: unknown, request: { method: string; path: string }): void;
}

/**
 * Serves the HTTP/2 streams of an upgraded connection to a protocol session: each request's path
 * and query go to the session, its body is read under the call's limit, and the answer is
 * `{"data": …}` JSON, raw bytes, or the error message with its status. Streams are served
 * concurrently (uploads are pipelined). Resolves once the connection has ended and the session
 * is closed (an unfinished backup aborted).
 */
export function serveSession(
  h2: ServerHttp2Session,
  session: ProtocolSession,
  options: ServeOptions = {},
): Promise<SessionOutcome> {
  const budget = new ByteBudget(options.bodyBudget ?? DEFAULT_BODY_BUDGET);
  const running = new Set<Promise<void>>();
  h2.on("stream", (stream, headers) => {
    const served = serveStream(stream, headers, session, budget, options);
    running.add(served);
    void served.finally(() => running.delete(served));
  });
  return new Promise((resolve) => {
    const end = async () => {
      await Promise.allSettled([...running]);
      try {
        resolve(await session.close());
      } catch (err) {
        resolve({ ok: false, message: `closing the session failed: ${(err as Error).message}` });
      }
    };
    if (h2.destroyed) void end();
    else h2.once("close", () => void end());
  });
}

async function serveStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  session: ProtocolSession,
  budget: ByteBudget,
  options: ServeOptions,
): Promise<void> {
  stream.on("error", () => {}); // a reset stream is answered by nobody; the session goes on
  const method = String(headers[":method"] ?? "");
  const target = String(headers[":path"] ?? "/");
  const queryStart = target.indexOf("?");
  const request = { method, path: queryStart < 0 ? target : target.slice(0, queryStart) };
  let release: (() => void) | undefined;
  try {
    const prepared = session.prepare({
      ...request,
      query: new URLSearchParams(queryStart < 0 ? "" : target.slice(queryStart + 1)),
      contentType: headers["content-type"],
    });
    const rule = prepared.body;
    release = await budget.acquire(rule.discard ? 0 : rule.maxBytes);
    const body = await readStreamBody(stream, rule);
    answer(stream, await prepared.run(body));
  } catch (err) {
    if (statusOf(err) >= 500) options.onServerError?.(err, request);
    answerError(stream, err);
  } finally {
    release?.();
  }
}

function answer(stream: ServerHttp2Stream, result: CallResult): void {
  if (stream.destroyed || stream.closed) return;
  if (result.kind === "bytes") {
    stream.respond({
      ":status": 200,
      "content-type": "application/octet-stream",
      "content-length": result.bytes.length,
    });
    stream.end(result.bytes);
    return;
  }
  const body = Buffer.from(JSON.stringify({ data: result.data ?? null }));
  stream.respond({
    ":status": 200,
    "content-type": "application/json",
    "content-length": body.length,
  });
  stream.end(body);
}

/** The error's message as text; then what the client still sends is dropped, up to a limit. */
function answerError(stream: ServerHttp2Stream, err: unknown): void {
  if (stream.destroyed || stream.closed) return;
  const status = statusOf(err);
  const message =
    err instanceof CairnError || status < 500 ? (err as Error).message : "internal server error";
  const body = Buffer.from(message);
  stream.respond({
    ":status": status,
    "content-type": "text/plain;charset=utf-8",
    "content-length": body.length,
  });
  stream.end(body);
  drainRest(stream);
}

/** Reading on lets a client finish its request and read the answer; a reset would drop it. */
function drainRest(stream: ServerHttp2Stream): void {
  if (stream.readableEnded) return;
  let dropped = 0;
  stream.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_LIMIT) stream.close(http2.constants.NGHTTP2_CANCEL);
  });
  stream.resume();
}
