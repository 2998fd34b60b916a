import { createCipheriv, createHash, hash } from "node:crypto";

/** Little-endian u32 counters 0, 1, 2, … filling `length` bytes: the PBS chunker and benchmark input. */
export function u32CounterBuffer(length: number): Buffer {
  const out = Buffer.alloc(length);
  const whole = Math.floor(length / 4);
  for (let i = 0; i < whole; i++) out.writeUInt32LE(i, i * 4);
  const last = Buffer.alloc(4);
  last.writeUInt32LE(whole);
  last.copy(out, whole * 4, 0, length - whole * 4);
  return out;
}

/** SHA-256(le64(0)) ‖ SHA-256(le64(1)) ‖ … truncated to `length` bytes (the derived chunker vectors). */
export function sha256CounterBuffer(length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(8);
  for (let i = 0, at = 0; at < length; i++, at += 32) {
    counter.writeUInt32LE(i % 2 ** 32, 0);
    counter.writeUInt32LE(Math.floor(i / 2 ** 32), 4);
    hash("sha256", counter, "buffer").copy(out, at);
  }
  return out;
}

/**
 * `length` pseudo-random bytes, the same for the same seed: an AES-256-CTR keystream under
 * SHA-256(seed), fast enough to make hundreds of MiB for tests and benchmarks.
 */
export function pseudoRandomBuffer(length: number, seed = "cairn"): Buffer {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const out = Buffer.alloc(length);
  const slice = 64 * 1024;
  for (let at = 0; at < length; at += slice) {
    const part = out.subarray(at, Math.min(at + slice, length));
    cipher.update(part).copy(part);
  }
  return out;
}
