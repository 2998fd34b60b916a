import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { decodeBlob, verifyBlobCrc } from "../format/blob.js";
import { decodeChunk } from "../format/chunk.js";
import { DynamicIndexReader } from "../format/dynamic-index.js";
import { FormatError } from "../format/errors.js";
import { FixedIndexReader } from "../format/fixed-index.js";
import type { IndexReader } from "../format/index-file.js";
import type { Manifest, ManifestFile } from "../format/manifest.js";
import type { Datastore } from "./datastore.js";
import { DatastoreError, isDatastoreError, isMissing } from "./errors.js";
import type { HeldLock } from "./locks.js";
import { readManifestFile } from "./manifest-file.js";
import { type Namespace, ROOT_NAMESPACE } from "./names.js";
import { readVerifyState, type SnapshotRef, snapshotRefPath } from "./snapshots.js";

/**
 * Verification (pbs-formats.md §11): every file of a finished snapshot against its manifest, and
 * every chunk its indexes name, each chunk checked once per run. Corrupt chunks are renamed to
 * `<digest>.<n>.bad`; the outcome is recorded as `unprotected.verify_state` in the manifest.
 */

const DAY_SECONDS = 86_400;

/** One thing found wrong, naming the snapshot, the file and the chunk it concerns. */
export interface VerifyProblem {
  /** Snapshot path relative to the datastore. */
  snapshot: string;
  file?: string;
  digest?: string;
  /** The whole story in one line: snapshot, file, chunk and what was wrong. */
  message: string;
}

export interface ChunkCounts {
  /** Chunks read and checked by this snapshot's verification. */
  checked: number;
  /** Chunks already found good earlier in the run. */
  cached: number;
  /** Chunks found corrupt (now or earlier in the run), missing included. */
  errors: number;
  missing: number;
}

export interface SnapshotVerifyResult {
  ref: SnapshotRef;
  snapshot: string;
  /** `skipped`: in use by a writer or deleter, unfinished, or vanished; nothing was recorded. */
  state: "ok" | "failed" | "skipped";
  problems: VerifyProblem[];
  chunks: ChunkCounts;
  /** Why it was skipped. */
  reason?: string;
}

export type VerifyLog = (level: "info" | "warn" | "error", message: string) => void;

export interface VerifierOptions {
  /** The task's UPID, recorded in `verify_state`; default: a local one naming this process. */
  upid?: string;
  onLog?: VerifyLog;
}

/** One verification run: the chunks found good and found corrupt so far, shared by all its snapshots. */
export class Verifier {
  readonly verified = new Set<string>();
  readonly corrupt = new Set<string>();
  readonly upid: string;
  readonly log: VerifyLog;

  constructor(options: VerifierOptions = {}) {
    this.upid = options.upid ?? localUpid("verify");
    this.log = options.onLog ?? (() => {});
  }
}

// ---- re-verify filter ----

export interface VerifyFilters {
  /** Skip snapshots verified before (default true, as PBS). */
  ignoreVerified?: boolean;
  /** With ignoreVerified: verify again when the last verification is more than this many days old. */
  outdatedAfterDays?: number;
}

/** Whether a snapshot is due for verification (PBS's `ignore-verified` / `outdated-after`); `now` in epoch seconds. */
export function needsVerify(manifest: Manifest, options: VerifyFilters & { now: number }): boolean {
  if (options.ignoreVerified === false) return true;
  const state = readVerifyState(manifest);
  if (state === undefined) return true;
  if (options.outdatedAfterDays === undefined) return false;
  const started = parseUpidStartTime(state.upid);
  if (started === undefined) return true;
  return Math.trunc((options.now - started) / DAY_SECONDS) > options.outdatedAfterDays;
}

const UPID =
  /^UPID:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8,16}:([0-9A-Fa-f]{8}):[^:\s]+:[^:\s]*:[^:\s]+:$/;

/** The start time (epoch seconds) in a UPID's hex field, or undefined when it is not a UPID. */
export function parseUpidStartTime(upid: string): number | undefined {
  const match = UPID.exec(upid);
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

/** A UPID for a run without a task: this host and process, the start time, no task counter. */
export function localUpid(workerType: string, nowMs = Date.now(), authId = "root@pam"): string {
  const node = hostname()
    .split(".")[0]!
    .replace(/[^A-Za-z0-9-]/g, "")
    .replace(/^-+|-+$/g, "");
  const hex8 = (value: number) => value.toString(16).toUpperCase().padStart(8, "0");
  const start = hex8(Math.floor(nowMs / 1000));
  return `UPID:${node || "localhost"}:${hex8(process.pid)}:00000000:00000000:${start}:${workerType}::${authId}:`;
}

// ---- one snapshot ----

export interface VerifySnapshotOptions {
  verifier: Verifier;
  /** Overrides the verifier's UPID for this snapshot's `verify_state`. */
  upid?: string;
}

/**
 * Verifies one finished snapshot under a shared snapshot lock (busy → skipped), then records
 * `verify_state` {upid, ok|failed} in its manifest under the manifest lock.
 */
export async function verifySnapshot(
  datastore: Datastore,
  ref: SnapshotRef,
  options: VerifySnapshotOptions,
): Promise<SnapshotVerifyResult> {
  const { verifier } = options;
  const snapshot = snapshotRefPath(ref);
  const result: SnapshotVerifyResult = {
    ref,
    snapshot,
    state: "ok",
    problems: [],
    chunks: { checked: 0, cached: 0, errors: 0, missing: 0 },
  };
  const skip = (reason: string): SnapshotVerifyResult => {
    verifier.log("info", `SKIPPED: verify ${snapshot} - ${reason}`);
    return { ...result, state: "skipped", reason };
  };
  let lock: HeldLock;
  try {
    lock = await datastore.lockSnapshot(ref, "shared", "verify it");
  } catch (err) {
    if (err instanceof DatastoreError && err.kind === "lock-busy")
      return skip("locked by another operation");
    throw err;
  }
  try {
    const dir = datastore.snapshotDir(ref);
    let manifest: Manifest;
    try {
      manifest = await readManifestFile(dir);
    } catch (err) {
      if (isDatastoreError(err, "not-found")) return skip("not finished, or removed");
      const problem = report(result, { message: `cannot load the manifest: ${messageOf(err)}` });
      verifier.log("error", problem.message);
      result.state = "failed";
      return result; // nothing to record the state in
    }
    verifier.log("info", `verify ${snapshot}`);
    for (const file of manifest.files) await verifyFile(datastore, verifier, dir, file, result);
    result.state = result.problems.length === 0 ? "ok" : "failed";
    await datastore.updateManifest(ref, (current) => ({
      ...current,
      unprotected: {
        ...current.unprotected,
        verify_state: { upid: options.upid ?? verifier.upid, state: result.state },
      },
    }));
    if (result.state === "failed") verifier.log("error", `verify ${snapshot} failed`);
    return result;
  } finally {
    lock.release();
  }
}

async function verifyFile(
  datastore: Datastore,
  verifier: Verifier,
  dir: string,
  file: ManifestFile,
  result: SnapshotVerifyResult,
): Promise<void> {
  verifier.log("info", `  check ${file.filename}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, file.filename));
  } catch (err) {
    if (!isMissing(err)) throw err;
    verifier.log(
      "error",
      report(result, { file: file.filename, message: "file is missing" }).message,
    );
    return;
  }
  try {
    if (file.filename.endsWith(".blob")) {
      checkBlob(bytes, file);
    } else {
      const index = parseIndex(file.filename, bytes);
      checkIndexAgainstManifest(index, file);
      await verifyIndexChunks(datastore, verifier, file, index, result);
    }
  } catch (err) {
    if (err instanceof VerifyFailure || isFormatProblem(err)) {
      verifier.log(
        "error",
        report(result, { file: file.filename, message: messageOf(err) }).message,
      );
      return;
    }
    throw err;
  }
}

/** A check that failed; its message is the problem. */
class VerifyFailure extends Error {}

function checkBlob(bytes: Buffer, file: ManifestFile): void {
  if (bytes.length !== file.size) {
    throw new VerifyFailure(`size ${bytes.length}, the manifest says ${file.size}`);
  }
  const csum = createHash("sha256").update(bytes).digest("hex");
  if (csum !== file.csum)
    throw new VerifyFailure(`checksum ${csum}, the manifest says ${file.csum}`);
  const header = verifyBlobCrc(bytes);
  if (header.cryptMode === "none") decodeBlob(bytes);
}

function parseIndex(filename: string, bytes: Buffer): IndexReader {
  return filename.endsWith(".fidx")
    ? FixedIndexReader.parse(bytes)
    : DynamicIndexReader.parse(bytes);
}

function checkIndexAgainstManifest(index: IndexReader, file: ManifestFile): void {
  const { csum, size } = index.computeCsum();
  if (size !== file.size)
    throw new VerifyFailure(`index size ${size}, the manifest says ${file.size}`);
  const hex = csum.toString("hex");
  if (hex !== file.csum) {
    throw new VerifyFailure(`index checksum ${hex}, the manifest says ${file.csum}`);
  }
}

async function verifyIndexChunks(
  datastore: Datastore,
  verifier: Verifier,
  file: ManifestFile,
  index: IndexReader,
  result: SnapshotVerifyResult,
): Promise<void> {
  const started = performance.now();
  let errors = 0;
  for (let i = 0; i < index.count; i++) {
    const digest = index.digest(i).toString("hex");
    if (verifier.verified.has(digest)) {
      result.chunks.cached++;
      continue;
    }
    const problem = verifier.corrupt.has(digest)
      ? "was found corrupt earlier in this run"
      : await checkChunk(datastore, verifier, digest, chunkLength(index, i), file, result);
    if (problem !== undefined) {
      errors++;
      result.chunks.errors++;
      verifier.log(
        "error",
        report(result, { file: file.filename, digest, message: problem }).message,
      );
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  verifier.log(
    "info",
    `  verified ${file.filename}: ${index.count} chunks in ${seconds} s (${errors} errors)`,
  );
}

function chunkLength(index: IndexReader, i: number): number {
  const { start, end } = index.chunkRange(i);
  return end - start;
}

/**
 * Reads and checks one chunk: CRC, crypt mode against the file's, and for unencrypted chunks the
 * decoded length and digest. Returns the problem, or undefined when the chunk is good.
 */
async function checkChunk(
  datastore: Datastore,
  verifier: Verifier,
  digest: string,
  length: number,
  file: ManifestFile,
  result: SnapshotVerifyResult,
): Promise<string | undefined> {
  result.chunks.checked++;
  let encoded: Buffer;
  try {
    encoded = await datastore.chunks.read(digest);
  } catch (err) {
    verifier.corrupt.add(digest);
    if (!(err instanceof DatastoreError && err.kind === "chunk-missing")) {
      return `cannot be read: ${messageOf(err)}`;
    }
    result.chunks.missing++;
    return "is missing from the chunk store";
  }
  let encrypted: boolean;
  try {
    encrypted = verifyBlobCrc(encoded).cryptMode === "encrypt";
    if (!encrypted) decodeChunk(encoded, Buffer.from(digest, "hex"), { size: length });
  } catch (err) {
    if (!isFormatProblem(err)) throw err;
    return markCorrupt(datastore, verifier, digest, messageOf(err));
  }
  verifier.verified.add(digest);
  if (encrypted !== (file.cryptMode === "encrypt")) {
    // the chunk itself is sound: another index may name it correctly
    return `is ${encrypted ? "encrypted" : "not encrypted"}, but ${file.filename} has crypt-mode ${file.cryptMode}`;
  }
  return undefined;
}

async function markCorrupt(
  datastore: Datastore,
  verifier: Verifier,
  digest: string,
  why: string,
): Promise<string> {
  verifier.corrupt.add(digest);
  try {
    const renamed = await datastore.chunks.markBad(digest);
    return `is corrupt (${why}); renamed to ${renamed.slice(renamed.lastIndexOf("/") + 1)}`;
  } catch (err) {
    return `is corrupt (${why}); could not rename it: ${messageOf(err)}`;
  }
}

function report(
  result: SnapshotVerifyResult,
  problem: { file?: string; digest?: string; message: string },
): VerifyProblem {
  const where = [result.snapshot, problem.file].filter(Boolean).join("/");
  const chunk = problem.digest ? `chunk ${problem.digest} ` : "";
  const full: VerifyProblem = {
    snapshot: result.snapshot,
    ...(problem.file !== undefined && { file: problem.file }),
    ...(problem.digest !== undefined && { digest: problem.digest }),
    message: `${where}: ${chunk}${problem.message}`,
  };
  result.problems.push(full);
  return full;
}

function isFormatProblem(err: unknown): boolean {
  return err instanceof FormatError;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- a whole datastore ----

export interface VerifyDatastoreOptions {
  /** Where to start (default: the root namespace). */
  ns?: Namespace;
  /** Namespace levels below `ns` to include (default: all). */
  maxDepth?: number;
  filters?: VerifyFilters;
  /** Default: a new run. */
  verifier?: Verifier;
  /** Epoch seconds, for the outdated-after filter (default: now). */
  now?: number;
  /** Stops between snapshots. */
  signal?: AbortSignal;
}

export interface DatastoreVerifyResult {
  upid: string;
  results: SnapshotVerifyResult[];
  /** Paths of snapshots that failed. */
  failed: string[];
  /** Finished snapshots left out by the filters. */
  filtered: number;
}

/**
 * Verifies every finished snapshot below a namespace that the filters select, newest first
 * within each group; `host/benchmark` groups are skipped, as PBS does.
 */
export async function verifyDatastore(
  datastore: Datastore,
  options: VerifyDatastoreOptions = {},
): Promise<DatastoreVerifyResult> {
  const verifier = options.verifier ?? new Verifier();
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const run: DatastoreVerifyResult = { upid: verifier.upid, results: [], failed: [], filtered: 0 };
  const namespaces = await datastore.listNamespaces(options.ns ?? ROOT_NAMESPACE, options.maxDepth);
  for (const ns of namespaces) {
    for (const group of await datastore.listGroupNames(ns)) {
      if (group.type === "host" && group.id === "benchmark") continue;
      const snapshots = (await datastore.listSnapshots(ns, group)).filter((s) => s.finished);
      for (const snapshot of snapshots.reverse()) {
        options.signal?.throwIfAborted();
        if (!(await isDue(datastore, snapshot, options.filters ?? {}, now))) {
          run.filtered++;
          continue;
        }
        const result = await verifyOrReport(datastore, snapshot, verifier);
        run.results.push(result);
        if (result.state === "failed") run.failed.push(result.snapshot);
      }
    }
  }
  return run;
}

/** An I/O failure on one snapshot fails that snapshot, not the whole run. */
async function verifyOrReport(
  datastore: Datastore,
  ref: SnapshotRef,
  verifier: Verifier,
): Promise<SnapshotVerifyResult> {
  try {
    return await verifySnapshot(datastore, ref, { verifier });
  } catch (err) {
    const result: SnapshotVerifyResult = {
      ref,
      snapshot: snapshotRefPath(ref),
      state: "failed",
      problems: [],
      chunks: { checked: 0, cached: 0, errors: 0, missing: 0 },
    };
    verifier.log(
      "error",
      report(result, { message: `verification aborted: ${messageOf(err)}` }).message,
    );
    return result;
  }
}

async function isDue(
  datastore: Datastore,
  ref: SnapshotRef,
  filters: VerifyFilters,
  now: number,
): Promise<boolean> {
  try {
    return needsVerify(await datastore.readManifest(ref), { ...filters, now });
  } catch {
    return true; // an unreadable manifest is for verify to report
  }
}
