import { lstatSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { DynamicIndexReader } from "../format/dynamic-index.js";
import { FixedIndexReader } from "../format/fixed-index.js";
import type { IndexReader } from "../format/index-file.js";
import { writeFileAtomic } from "./atomic-file.js";
import {
  type ChunkFile,
  ChunkStore,
  MAX_BAD_COPIES,
  PREFIX_DIR_COUNT,
  type SweepOutcome,
} from "./chunk-store.js";
import { DatastoreError } from "./errors.js";
import { LockDirectory } from "./locks.js";
import { WriterRegistry } from "./writer-registry.js";

export const GC_STATUS_FILE = ".gc-status";
export const LOCKS_DIR = ".locks";
/** PBS's default `gc-atime-cutoff`: 24 h for `relatime`, plus 5 min of safety. */
export const DEFAULT_ATIME_CUTOFF_MINUTES = 24 * 60 + 5;
/** PBS's default `gc-cache-capacity`: digests remembered as already touched in the mark phase. */
export const DEFAULT_CACHE_CAPACITY = 1_048_576;
/** Margin kept below the start of the oldest running writer. */
const WRITER_MARGIN_MS = 5 * 60 * 1000;
/** Kernel file times come from a coarse clock and may be rounded: never trust the last second or two. */
const CLOCK_SLACK_MS = 2000;
/** Batches of synchronous syscalls give the event loop a turn after this long. */
const YIELD_AFTER_MS = 8;
const ATIME_PROBE = ".atime-probe";

export type GcPhase = "mark" | "sweep";

export interface GcOptions {
  /** Chunks not touched for this long are removed (PBS tuning `gc-atime-cutoff`). */
  atimeCutoffMinutes?: number;
  /** Capacity of the mark phase's digest cache (PBS tuning `gc-cache-capacity`). */
  cacheCapacity?: number;
  /** Stops the run between chunks; the store stays valid and `.gc-status` is not written. */
  signal?: AbortSignal;
  onProgress?: (phase: GcPhase, percent: number) => void;
  /** Task log lines: the summary, and a warning per missing chunk. */
  onLog?: (level: "info" | "warn", message: string) => void;
  /** The clock, epoch ms (tests). */
  now?: () => number;
  /** Recorded in `.gc-status`, as PBS does. */
  upid?: string;
}

/** The result of a run, as PBS stores it in `.gc-status` (kebab-case), plus two derived fields. */
export interface GcStatus {
  upid?: string;
  "index-file-count": number;
  "index-data-bytes": number;
  "disk-bytes": number;
  "disk-chunks": number;
  "removed-bytes": number;
  "removed-chunks": number;
  "pending-bytes": number;
  "pending-chunks": number;
  "removed-bad": number;
  "still-bad": number;
  /** Chunks referenced by an index but absent from the store. */
  "missing-chunks": number;
  /** index-data-bytes / disk-bytes; null when nothing is on disk. */
  "deduplication-factor": number | null;
}

interface GcRun {
  store: ChunkStore;
  options: GcOptions;
  now: () => number;
  status: GcStatus;
  log: (level: "info" | "warn", message: string) => void;
}

/**
 * Garbage collection (pbs-formats.md §10): under the exclusive `gc` lock, check that the
 * filesystem keeps atimes, mark (touch) every chunk any index names, then sweep chunks whose
 * atime is older than the cutoff. Takes no lock a backup needs; see README "Why GC cannot remove
 * a chunk a backup needs".
 */
export async function garbageCollect(
  target: ChunkStore | string,
  options: GcOptions = {},
): Promise<GcStatus> {
  checkGcOptions(options);
  const store = typeof target === "string" ? await ChunkStore.open(target) : target;
  const lock = await new LockDirectory(join(store.root, LOCKS_DIR)).acquire("gc", "exclusive", {
    purpose: "start garbage collection",
  });
  try {
    const run: GcRun = {
      store,
      options,
      now: options.now ?? Date.now,
      status: emptyStatus(options.upid),
      log: options.onLog ?? (() => {}),
    };
    checkAtimeUpdates(store, run.now());
    const registry = new WriterRegistry(store.root);
    const start = run.now();
    const writerAtStart = registry.oldestActive();
    await mark(run);
    const oldestWriter = minDefined(writerAtStart, registry.oldestActive());
    const cutoff = sweepCutoff(start, oldestWriter, options.atimeCutoffMinutes);
    run.log("info", `sweeping chunks last used before ${new Date(cutoff).toISOString()}`);
    await sweep(run, cutoff, Math.min(start, oldestWriter ?? start));
    finishStatus(run);
    const statusText = `${JSON.stringify(run.status, null, 2)}\n`;
    await writeFileAtomic(join(store.root, GC_STATUS_FILE), statusText, {
      fsync: store.syncLevel !== "none",
    });
    return run.status;
  } finally {
    lock.release();
  }
}

/**
 * The atime below which sweep removes a chunk (epoch ms): `min(start − atime cutoff, oldest
 * running writer's start − 5 min) − 2 s` (README, "Why GC cannot remove a chunk a backup needs").
 */
export function sweepCutoff(
  start: number,
  oldestWriter: number | undefined,
  atimeCutoffMinutes = DEFAULT_ATIME_CUTOFF_MINUTES,
): number {
  const byAge = start - atimeCutoffMinutes * 60_000;
  const byWriter = oldestWriter === undefined ? byAge : oldestWriter - WRITER_MARGIN_MS;
  return Math.min(byAge, byWriter) - CLOCK_SLACK_MS;
}

function checkGcOptions(options: GcOptions): void {
  const { atimeCutoffMinutes, cacheCapacity } = options;
  if (atimeCutoffMinutes !== undefined && !(atimeCutoffMinutes >= 0)) {
    throw badOption("atimeCutoffMinutes", atimeCutoffMinutes, "must be 0 or more minutes");
  }
  if (cacheCapacity !== undefined && !(Number.isSafeInteger(cacheCapacity) && cacheCapacity > 0)) {
    throw badOption("cacheCapacity", cacheCapacity, "must be a positive integer");
  }
}

function badOption(field: string, value: unknown, rule: string): DatastoreError {
  return new DatastoreError("bad-gc-options", `GC option ${field} ${rule}`, { field, value });
}

/**
 * Refuses GC on a filesystem that does not keep the atimes it is given: a probe file gets an atime
 * in the past, is touched, and both values are read back.
 */
export function checkAtimeUpdates(store: ChunkStore, now: number): void {
  const probe = join(store.chunkDir, ATIME_PROBE);
  const past = now - 2 * 24 * 3600 * 1000;
  try {
    writeFileSync(probe, "");
    utimesSync(probe, past / 1000, past / 1000);
    const before = lstatSync(probe).atimeMs;
    store.touchPathSync(probe, now);
    const after = lstatSync(probe).atimeMs;
    if (Math.abs(before - past) > CLOCK_SLACK_MS || Math.abs(after - now) > CLOCK_SLACK_MS) {
      throw new DatastoreError(
        "atime-unsupported",
        `the filesystem of ${store.chunkDir} does not keep access times (set ${past}, read ${before}; touched at ${now}, read ${after}); refusing garbage collection`,
        { path: store.chunkDir, set: past, readBack: before, touched: now, readAfterTouch: after },
      );
    }
  } finally {
    try {
      unlinkSync(probe);
    } catch {}
  }
}

// ---- phase 1: mark ----

async function mark(run: GcRun): Promise<void> {
  const indexes = await findIndexFiles(run.store.root);
  const cache = new DigestCache(run.options.cacheCapacity ?? DEFAULT_CACHE_CAPACITY);
  const progress = percentReporter(run, "mark");
  run.log("info", `marking chunks of ${indexes.length} index files`);
  progress(0);
  for (let i = 0; i < indexes.length; i++) {
    checkAborted(run, "mark");
    const path = indexes[i]!;
    const index = await readIndex(path);
    if (index) {
      run.status["index-file-count"]++;
      run.status["index-data-bytes"] += index.size;
      await markIndex(run, index, relative(run.store.root, path), cache);
    }
    progress((i + 1) / indexes.length);
  }
}

/** Every `.fidx`/`.didx` below the datastore root; hidden entries (`.chunks`, `.locks`…) are skipped. */
async function findIndexFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const pending = [root];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of await listDirectory(dir, root)) {
      if (entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile() && (entry.name.endsWith(".fidx") || entry.name.endsWith(".didx")))
        found.push(path);
    }
  }
  return found;
}

async function listDirectory(dir: string, root: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return []; // removed while we walk
    if (code === "EACCES" && dir === join(root, "lost+found")) return []; // ext4's fsck folder, root-only
    throw new DatastoreError(
      "gc-unsafe",
      `cannot continue garbage collection safely: cannot read ${dir}`,
      { path: dir },
      undefined,
      { cause: err },
    );
  }
}

async function readIndex(path: string): Promise<IndexReader | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined; // pruned while we walk
    throw err;
  }
  try {
    return path.endsWith(".fidx") ? FixedIndexReader.parse(bytes) : DynamicIndexReader.parse(bytes);
  } catch (err) {
    // skipping it would let sweep remove chunks it may name
    throw new DatastoreError(
      "gc-unsafe",
      `cannot continue garbage collection safely: unreadable index ${path}`,
      { path },
      undefined,
      { cause: err },
    );
  }
}

async function markIndex(
  run: GcRun,
  index: IndexReader,
  name: string,
  cache: DigestCache,
): Promise<void> {
  const { store } = run;
  let sliceStart = performance.now();
  for (let i = 0; i < index.count; i++) {
    const digest = index.digest(i);
    if (cache.seen(digest)) continue;
    const hex = digest.toString("hex");
    const path = `${store.chunkDir}/${hex.slice(0, 4)}/${hex}`;
    if (!store.touchPathSync(path, run.now())) markMissing(run, path, hex, name);
    if (performance.now() - sliceStart > YIELD_AFTER_MS) {
      await yieldToEventLoop();
      checkAborted(run, "mark");
      sliceStart = performance.now();
    }
  }
}

/** A missing chunk is reported; its `.bad` copies are touched so sweep keeps them for inspection. */
function markMissing(run: GcRun, path: string, hex: string, index: string): void {
  run.status["missing-chunks"]++;
  let badCopies = 0;
  for (let n = 0; n < MAX_BAD_COPIES; n++) {
    if (run.store.touchPathSync(`${path}.${n}.bad`, run.now())) badCopies++;
  }
  run.log(
    "warn",
    `chunk ${hex} referenced by ${index} is missing${badCopies ? ` (${badCopies} .bad copies kept)` : ""}`,
  );
}

/**
 * Remembers digests already touched in this run, so chunks shared by many indexes are touched
 * once. Direct-mapped over 32-byte slots: a collision only costs an extra touch, and memory stays
 * at 33 bytes per slot whatever the store holds.
 */
export class DigestCache {
  readonly #slots: Buffer;
  readonly #used: Uint8Array;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw badOption("cacheCapacity", capacity, "must be a positive integer");
    }
    this.#slots = Buffer.alloc(capacity * 32);
    this.#used = new Uint8Array(capacity);
  }

  /** True when `digest` was seen before; otherwise records it and returns false. */
  seen(digest: Buffer): boolean {
    const slot = digest.readUInt32BE(4) % this.capacity; // digests are uniform: any 4 bytes will do
    const at = slot * 32;
    if (this.#used[slot] === 1 && digest.equals(this.#slots.subarray(at, at + 32))) return true;
    digest.copy(this.#slots, at);
    this.#used[slot] = 1;
    return false;
  }
}

// ---- phase 2: sweep ----

/**
 * One pass over the chunk files: atime < cutoff is removed; cutoff ≤ atime < oldest writer (or GC
 * start) is pending, removed by a later run; anything newer is in use.
 */
async function sweep(run: GcRun, cutoff: number, pendingBefore: number): Promise<void> {
  const { store, status } = run;
  const progress = percentReporter(run, "sweep");
  let staleTemps = 0;
  const files = store.chunkFiles({
    includeLeftovers: true,
    onPrefix: (prefix) => progress(prefix / PREFIX_DIR_COUNT),
  });
  for await (const file of files) {
    checkAborted(run, "sweep");
    if (file.leftover === "sweeping") {
      store.restoreSweptFile(file); // an earlier sweep died mid-check: judge it again next run
    } else if (file.leftover === "temp") {
      if (file.mtimeMs < cutoff && removeQuietly(file.path)) staleTemps++;
    } else if (file.atimeMs < cutoff) {
      countSwept(status, file, store.sweepFile(file, cutoff));
    } else if (file.atimeMs < pendingBefore) {
      if (file.bad === undefined) status["pending-chunks"]++;
      else status["still-bad"]++;
      status["pending-bytes"] += file.size;
    } else {
      countInUse(status, file);
    }
  }
  progress(1);
  if (staleTemps > 0)
    run.log("info", `removed ${staleTemps} temp files of interrupted chunk inserts`);
}

function countSwept(status: GcStatus, file: ChunkFile, outcome: SweepOutcome): void {
  if (outcome === "kept") {
    countInUse(status, file); // touched while we looked
  } else if (outcome === "removed") {
    if (file.bad === undefined) status["removed-chunks"]++;
    else status["removed-bad"]++;
    status["removed-bytes"] += file.size;
  }
}

function countInUse(status: GcStatus, file: ChunkFile): void {
  if (file.bad === undefined) status["disk-chunks"]++;
  else status["still-bad"]++;
  status["disk-bytes"] += file.size;
}

function removeQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

// ---- shared pieces ----

function emptyStatus(upid: string | undefined): GcStatus {
  return {
    ...(upid !== undefined && { upid }),
    "index-file-count": 0,
    "index-data-bytes": 0,
    "disk-bytes": 0,
    "disk-chunks": 0,
    "removed-bytes": 0,
    "removed-chunks": 0,
    "pending-bytes": 0,
    "pending-chunks": 0,
    "removed-bad": 0,
    "still-bad": 0,
    "missing-chunks": 0,
    "deduplication-factor": null,
  };
}

/** Derives the last fields and logs PBS's summary lines. */
function finishStatus(run: GcRun): void {
  const s = run.status;
  const disk = s["disk-bytes"];
  s["deduplication-factor"] = disk > 0 ? s["index-data-bytes"] / disk : null;
  run.log("info", `removed garbage: ${s["removed-bytes"]} bytes`);
  run.log("info", `removed chunks: ${s["removed-chunks"]}`);
  run.log(
    "info",
    `pending removals: ${s["pending-bytes"]} bytes (in ${s["pending-chunks"]} chunks)`,
  );
  run.log(
    "info",
    `removed bad chunks: ${s["removed-bad"]}, leftover bad chunks: ${s["still-bad"]}`,
  );
  run.log("info", `original data usage: ${s["index-data-bytes"]} bytes`);
  if (s["index-data-bytes"] > 0) {
    run.log(
      "info",
      `on-disk usage: ${disk} bytes (${((disk * 100) / s["index-data-bytes"]).toFixed(2)}%)`,
    );
  }
  run.log("info", `on-disk chunks: ${s["disk-chunks"]}`);
  if (s["deduplication-factor"] !== null) {
    run.log("info", `deduplication factor: ${s["deduplication-factor"].toFixed(2)}`);
  }
  if (s["disk-chunks"] > 0)
    run.log("info", `average chunk size: ${Math.round(disk / s["disk-chunks"])} bytes`);
  if (s["missing-chunks"] > 0)
    run.log("warn", `${s["missing-chunks"]} referenced chunks are missing`);
}

function percentReporter(run: GcRun, phase: GcPhase): (fraction: number) => void {
  let last = -1;
  return (fraction) => {
    const percent = Math.floor(fraction * 100);
    if (percent === last) return;
    last = percent;
    run.options.onProgress?.(phase, percent);
  };
}

function checkAborted(run: GcRun, phase: GcPhase): void {
  const { signal } = run.options;
  if (!signal?.aborted) return;
  throw new DatastoreError(
    "aborted",
    `garbage collection aborted during ${phase}`,
    { phase },
    undefined,
    { cause: signal.reason },
  );
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
