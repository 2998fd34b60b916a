/**
 * The catalog's variable-length integers (pxar-format.md §8.1): little-endian base-128, high bit
 * on every byte but the last. A negative i64 keeps the high bit on every group of |v| and ends
 * with a 0x00 byte instead. Values are JS numbers, so only magnitudes up to 2^53 are read.
 */
import { FormatError } from "./errors.js";

const MAX_U64_BYTES = 10;
const MAX_I64_BYTES = 11;

/** The bytes of a non-negative integer. */
export function encodeVarint(value: number): Buffer {
  checkMagnitude(value);
  const out: number[] = [];
  let rest = value;
  while (rest >= 128) {
    out.push(0x80 | (rest % 128));
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** The bytes of a signed integer (file mtimes before 1970 are negative). */
export function encodeSvarint(value: number): Buffer {
  if (value >= 0) return encodeVarint(value);
  checkMagnitude(-value);
  const out: number[] = [];
  let rest = -value;
  while (rest >= 128) {
    out.push(0x80 | (rest % 128));
    rest = Math.floor(rest / 128);
  }
  out.push(0x80 | rest, 0);
  return Buffer.from(out);
}

/** A decoded value and the index just past its bytes. */
export interface Decoded {
  readonly value: number;
  readonly next: number;
}

/** Reads a varint from `bytes` at `at`; `offset` is where `bytes` starts in the file, for errors. */
export function decodeVarint(bytes: Uint8Array, at: number, offset = 0): Decoded {
  let value = 0;
  for (let i = 0; i < MAX_U64_BYTES; i++) {
    const byte = byteAt(bytes, at + i, offset);
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return { value: checkedValue(value, offset + at), next: at + i + 1 };
  }
  throw varintError("has no end within 10 bytes", offset + at);
}

/** Reads a signed varint, as PBS's `catalog_decode_i64` does. */
export function decodeSvarint(bytes: Uint8Array, at: number, offset = 0): Decoded {
  let magnitude = 0;
  for (let i = 0; i < MAX_I64_BYTES; i++) {
    const byte = byteAt(bytes, at + i, offset);
    if (byte === 0) {
      return {
        value: magnitude === 0 ? 0 : -checkedValue(magnitude, offset + at),
        next: at + i + 1,
      };
    }
    magnitude += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return { value: checkedValue(magnitude, offset + at), next: at + i + 1 };
  }
  throw varintError("has no end within 11 bytes", offset + at);
}

function byteAt(bytes: Uint8Array, index: number, offset: number): number {
  const byte = bytes[index];
  if (byte === undefined) {
    throw new FormatError("truncated", `catalog varint cut off at offset ${offset + index}`, {
      offset: offset + index,
    });
  }
  return byte;
}

function checkedValue(value: number, offset: number): number {
  if (value > Number.MAX_SAFE_INTEGER) throw varintError("exceeds 2^53", offset);
  return value;
}

function checkMagnitude(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FormatError(
      "invalid-argument",
      `catalog varint value ${value} is not a safe integer`,
      {
        value,
      },
    );
  }
}

function varintError(problem: string, offset: number): FormatError {
  return new FormatError("bad-layout", `catalog varint at offset ${offset} ${problem}`, { offset });
}
