import zstd from "zstd-napi/binding.js";
import { FormatError } from "./errors.js";

/** PBS compresses every blob and chunk at zstd level 1 (pbs-formats.md §1). */
export const ZSTD_LEVEL = 1;

/** Scratch space up to a 16 MiB chunk's bound is kept between calls; larger jobs get their own. */
const SCRATCH_KEEP_LIMIT = zstd.compressBound(16 * 1024 * 1024);

/** The smallest window limit we impose: every standard level up to 19 fits within 2^23. */
const MIN_WINDOW_LOG_MAX = 23;

/** First output buffer of a streaming decode when the frame does not state its size. */
const STREAM_INITIAL_OUTPUT = 256 * 1024;

// One context each per process: a fresh context allocates its tables anew, dearer than a small chunk.
const cctx = new zstd.CCtx();
const dctx = new zstd.DCtx();
let scratch = Buffer.alloc(0);

/**
 * Compresses `data` into one zstd frame at level 1 that states its content size. The result is a
 * view of a buffer that the next call overwrites: copy or consume it before compressing again.
 */
export function compressToScratch(data: Uint8Array): Buffer {
  const bound = zstd.compressBound(data.length);
  let target = scratch;
  if (bound > scratch.length) {
    target = Buffer.allocUnsafe(bound);
    if (bound <= SCRATCH_KEEP_LIMIT) scratch = target;
  }
  const written = cctx.compress(target, data, ZSTD_LEVEL);
  return target.subarray(0, written);
}

/**
 * Decompresses the zstd frames in `frames`, refusing with FormatError("oversize") as soon as the
 * output would exceed `maxSize` bytes: whatever the frames claim, at most `maxSize + 1` bytes of
 * output are allocated. Corrupt frames are FormatError "bad-layout", cut ones "truncated".
 */
export function decompressBounded(frames: Uint8Array, maxSize: number): Buffer {
  // An empty payload is zero frames; PBS's bulk decoder also reads it as empty data.
  if (frames.length === 0) return Buffer.alloc(0);
  const declared = zstdCall(() => zstd.getFrameContentSize(frames));
  if (declared !== null && declared > maxSize) throw oversize(maxSize, { declaredSize: declared });
  if (declared === null || !isSingleFrame(frames)) return decompressStreaming(frames, maxSize);
  const out = Buffer.allocUnsafe(declared);
  // zstd itself refuses a frame whose blocks do not add up to its stated size.
  zstdCall(() => dctx.decompress(out, frames));
  return out;
}

/** Whether `frames` is exactly one whole frame; a cut or corrupt one is left to the streaming path to name. */
function isSingleFrame(frames: Uint8Array): boolean {
  try {
    return zstd.findFrameCompressedSize(frames) === frames.length;
  } catch {
    return false;
  }
}

/** Frames without a stated size (PBS's streaming writer) or several frames: grow output up to the bound. */
function decompressStreaming(frames: Uint8Array, maxSize: number): Buffer {
  dctx.reset(zstd.ResetDirective.sessionOnly);
  dctx.setParameter(zstd.DParameter.windowLogMax, windowLogMaxFor(maxSize));
  let out: Buffer = Buffer.allocUnsafe(
    Math.min(maxSize + 1, Math.max(STREAM_INITIAL_OUTPUT, frames.length * 4)),
  );
  let produced = 0;
  let consumed = 0;
  for (;;) {
    if (produced === out.length) out = grow(out, maxSize);
    const [remaining, wrote, read] = zstdCall(() =>
      dctx.decompressStream(out.subarray(produced), frames.subarray(consumed)),
    );
    produced += wrote;
    consumed += read;
    if (produced > maxSize) throw oversize(maxSize, { decodedAtLeast: produced });
    if (remaining === 0 && consumed === frames.length) break;
    if (wrote === 0 && read === 0 && produced < out.length) {
      throw new FormatError("truncated", "zstd frame ends before its last block", {
        compressedSize: frames.length,
        decodedSize: produced,
      });
    }
  }
  // Trim by copying when the spare capacity is large, so callers do not pin it.
  if (produced === out.length) return out;
  return produced < out.length * 0.75
    ? Buffer.from(out.subarray(0, produced))
    : out.subarray(0, produced);
}

function grow(out: Buffer, maxSize: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.min(out.length * 2, maxSize + 1));
  out.copy(bigger);
  return bigger;
}

/** Bounds zstd's own window allocation by the output limit, as far as standard frames allow. */
function windowLogMaxFor(maxSize: number): number {
  return Math.min(31, Math.max(MIN_WINDOW_LOG_MAX, Math.ceil(Math.log2(Math.max(maxSize, 1)))));
}

function oversize(maxSize: number, context: Record<string, unknown>): FormatError {
  return new FormatError("oversize", `zstd data decodes to more than ${maxSize} bytes`, {
    maxSize,
    ...context,
  });
}

/** Turns the binding's plain Errors (corrupt frame, bad window, short input) into FormatErrors. */
function zstdCall<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof FormatError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new FormatError("bad-layout", `invalid zstd data: ${reason}`, {}, { cause: err });
  }
}
