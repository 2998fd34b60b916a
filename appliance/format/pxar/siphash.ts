/**
 * SipHash-2-4 with a 64-bit result (Aumasson and Bernstein, 2012): pxar's item type constants and
 * goodbye-table name hashes. Computed on 32-bit halves because BigInt arithmetic is far slower,
 * and every file name of an archive is hashed once.
 */

/** A 128-bit SipHash key as its two little-endian 64-bit halves (k0 = the first 8 key bytes). */
export interface SipHashKey {
  readonly k0: bigint;
  readonly k1: bigint;
}

const MASK32 = 0xffffffffn;

/** The key from its 16 bytes, in the standard convention (`k0 = le64(bytes[0..8])`). */
export function sipHashKeyFromBytes(bytes: Uint8Array): SipHashKey {
  if (bytes.length !== 16)
    throw new RangeError(`SipHash key must be 16 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return { k0: view.getBigUint64(0, true), k1: view.getBigUint64(8, true) };
}

/** SipHash-2-4 of `data` under `key`, as an unsigned 64-bit value. */
export function sipHash24(key: SipHashKey, data: Uint8Array): bigint {
  const k0lo = Number(key.k0 & MASK32);
  const k0hi = Number((key.k0 >> 32n) & MASK32);
  const k1lo = Number(key.k1 & MASK32);
  const k1hi = Number((key.k1 >> 32n) & MASK32);
  // v0..v3 as [lo, hi] pairs; the initialisation constants spell "somepseudorandomlygeneratedbytes"
  const s = new Uint32Array([
    k0lo ^ 0x70736575,
    k0hi ^ 0x736f6d65,
    k1lo ^ 0x6e646f6d,
    k1hi ^ 0x646f7261,
    k0lo ^ 0x6e657261,
    k0hi ^ 0x6c796765,
    k1lo ^ 0x79746573,
    k1hi ^ 0x74656462,
  ]);
  const length = data.length;
  const whole = length - (length % 8);
  for (let at = 0; at < whole; at += 8) {
    absorb(s, readLe32(data, at), readLe32(data, at + 4));
  }
  const tail = new Uint8Array(8);
  tail.set(data.subarray(whole));
  tail[7] = length & 0xff;
  absorb(s, readLe32(tail, 0), readLe32(tail, 4));
  s[4] = (s[4]! ^ 0xff) >>> 0;
  for (let i = 0; i < 4; i++) sipRound(s);
  const lo = (s[0]! ^ s[2]! ^ s[4]! ^ s[6]!) >>> 0;
  const hi = (s[1]! ^ s[3]! ^ s[5]! ^ s[7]!) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function readLe32(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
  );
}

/** Mixes one 64-bit message word m = (mhi:mlo) into the state with two compression rounds. */
function absorb(s: Uint32Array, mlo: number, mhi: number): void {
  s[6] = s[6]! ^ mlo;
  s[7] = s[7]! ^ mhi;
  sipRound(s);
  sipRound(s);
  s[0] = s[0]! ^ mlo;
  s[1] = s[1]! ^ mhi;
}

/** One SipRound over v0 = s[0,1], v1 = s[2,3], v2 = s[4,5], v3 = s[6,7]. */
function sipRound(s: Uint32Array): void {
  add(s, 0, 2);
  rotl(s, 2, 13);
  xor(s, 2, 0);
  swapHalves(s, 0);
  add(s, 4, 6);
  rotl(s, 6, 16);
  xor(s, 6, 4);
  add(s, 0, 6);
  rotl(s, 6, 21);
  xor(s, 6, 0);
  add(s, 4, 2);
  rotl(s, 2, 17);
  xor(s, 2, 4);
  swapHalves(s, 4);
}

/** s[a] += s[b] modulo 2^64. */
function add(s: Uint32Array, a: number, b: number): void {
  const lo = s[a]! + s[b]!;
  s[a + 1] = s[a + 1]! + s[b + 1]! + (lo > 0xffffffff ? 1 : 0);
  s[a] = lo;
}

function xor(s: Uint32Array, a: number, b: number): void {
  s[a] = s[a]! ^ s[b]!;
  s[a + 1] = s[a + 1]! ^ s[b + 1]!;
}

/** Rotates the 64-bit word at s[a] left by 0 < n < 32 bits. */
function rotl(s: Uint32Array, a: number, n: number): void {
  const lo = s[a]!;
  const hi = s[a + 1]!;
  s[a] = (lo << n) | (hi >>> (32 - n));
  s[a + 1] = (hi << n) | (lo >>> (32 - n));
}

/** Rotation by 32 bits. */
function swapHalves(s: Uint32Array, a: number): void {
  const lo = s[a]!;
  s[a] = s[a + 1]!;
  s[a + 1] = lo;
}
