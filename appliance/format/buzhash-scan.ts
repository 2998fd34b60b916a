import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUZHASH_TABLE } from "./buzhash-table.js";

/** Bytes in the rolling window: the boundary test after a byte looks at it and the 63 before it. */
export const WINDOW = 64;

/**
 * Finds the first end offset `e` in [from, to] (from ≥ 64, to ≤ data.length) at which the window
 * `data[e − 64, e)` hashes to a boundary, `(h & mask) >= threshold`; −1 when there is none.
 * A full window's hash depends on its 64 bytes only (the leaving byte's rotation is 64 ≡ 0 mod 32),
 * so a search may start anywhere without rolling through what precedes it.
 */
export type BoundaryFinder = (
  data: Uint8Array,
  from: number,
  to: number,
  mask: number,
  threshold: number,
) => number;

/** The same table as signed 32-bit values, which keeps V8 on small-integer arithmetic. */
const TABLE = new Int32Array(BUZHASH_TABLE.buffer, BUZHASH_TABLE.byteOffset, 256);

/** The portable search: one rolling hash, byte by byte (the native one must agree with it). */
export const typescriptFinder: BoundaryFinder = (data, from, to, mask, threshold) => {
  if (to < from) return -1;
  let h = 0;
  for (let at = from - WINDOW; at < from; at++) h = ((h << 1) | (h >>> 31)) ^ TABLE[data[at]!]!;
  if ((h & mask) >= threshold) return from;
  for (let end = from + 1; end <= to; end++) {
    h = ((h << 1) | (h >>> 31)) ^ TABLE[data[end - 1 - WINDOW]!]! ^ TABLE[data[end - 1]!]!;
    if ((h & mask) >= threshold) return end;
  }
  return -1;
};

interface NativeBuzhash {
  setTable(table: Uint32Array): void;
  findBoundary: BoundaryFinder;
}

/** The addon `npm ci` builds from appliance/native/buzhash.c, looked up from the package root. */
function loadNativeFinder(): BoundaryFinder | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    if (dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
  const addon = join(dir, "build", "Release", "cairn_buzhash.node");
  if (!existsSync(addon)) return undefined;
  const native = createRequire(import.meta.url)(addon) as NativeBuzhash;
  native.setTable(BUZHASH_TABLE);
  return native.findBoundary;
}

/** The native search (about 3× the TypeScript one), when the addon is built. */
export const nativeFinder: BoundaryFinder | undefined = loadNativeFinder();

/** What chunkers use unless told otherwise. */
export const defaultFinder: BoundaryFinder = nativeFinder ?? typescriptFinder;
