/**
 * Chunk store, verify and GC rates on a real directory under the system temp folder (removed at the
 * end): chunk inserts (new and duplicate), verify of one snapshot, then mark and sweep over a store
 * of 200,000 small chunks, with the event-loop delay seen while GC ran next to that of a plain
 * CPU-bound loop slicing its work the same way (on a shared machine most of the delay is other
 * processes). The load average is printed with the table. `--chunks N` changes the GC store size.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { setImmediate } from "node:timers/promises";
import { ChunkStore } from "../appliance/datastore/chunk-store.js";
import { Datastore } from "../appliance/datastore/datastore.js";
import { type GcPhase, garbageCollect } from "../appliance/datastore/gc.js";
import { Verifier, verifySnapshot } from "../appliance/datastore/verify.js";
import { encodeChunk } from "../appliance/format/chunk.js";
import { DynamicIndexWriter } from "../appliance/format/dynamic-index.js";
import { addManifestFile, newManifest } from "../appliance/format/manifest.js";
import { pseudoRandomBuffer } from "../test/helpers/generators.js";

const MiB = 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;
const IN_FLIGHT = 16;

interface Row {
  name: string;
  value: string;
  note: string;
}

const rows: Row[] = [];

function row(name: string, value: number, unit: string, note = ""): void {
  const shown = value >= 100 ? Math.round(value).toLocaleString("en") : value.toFixed(2);
  rows.push({ name, value: `${shown} ${unit}`, note });
  console.error(`${name}: ${shown} ${unit}`);
}

/** Runs `task` over `items` with at most IN_FLIGHT at once, as concurrent uploads would. */
async function inParallel<T>(items: T[], task: (item: T) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  const workers = Array.from({ length: IN_FLIGHT }, async () => {
    while (next < items.length) await task(items[next++]!);
  });
  await Promise.all(workers);
  return (performance.now() - start) / 1000;
}

function encodeMany(count: number, size: number, seed: string) {
  return Array.from({ length: count }, (_, i) => {
    const { digest, encoded } = encodeChunk(pseudoRandomBuffer(size, `${seed}-${i}`));
    return { digest: digest.toString("hex"), encoded, size };
  });
}

async function insertRows(root: string): Promise<void> {
  const createStart = performance.now();
  const store = await ChunkStore.create(root);
  row("create store (65,536 prefix dirs)", (performance.now() - createStart) / 1000, "s");
  for (const [label, count, size] of [
    ["4 KiB", 10_000, 4096],
    ["4 MiB", 60, 4 * MiB],
  ] as const) {
    const chunks = encodeMany(count, size, label);
    const mb = (count * size) / 1e6;
    const fresh = await inParallel(
      chunks,
      (c) => c && store.insert(c.digest, c.encoded, { expectedSize: c.size }),
    );
    row(`insert new ${label} chunks`, count / fresh, "chunks/s", `${(mb / fresh).toFixed(0)} MB/s`);
    const again = await inParallel(chunks, (c) =>
      store.insert(c.digest, c.encoded, { expectedSize: c.size }),
    );
    row(
      `insert duplicate ${label} chunks`,
      count / again,
      "chunks/s",
      `${(mb / again).toFixed(0)} MB/s`,
    );
  }
}

/**
 * A store of `count` 256-byte chunks written directly (the insert rows measure insert); indexes
 * reference three quarters of them. GC runs with its clock three days ahead, so the other quarter
 * is past the default cutoff without back-dating every file.
 */
async function buildGcStore(
  root: string,
  count: number,
): Promise<{ entries: number; referenced: number }> {
  const store = await ChunkStore.create(root);
  const digests: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const { digest, encoded } = encodeChunk(randomBytes(256));
    const hex = digest.toString("hex");
    const path = join(store.chunkDir, hex.slice(0, 4), hex);
    writeFileSync(path, encoded);
    digests.push(digest);
  }
  const referenced = Math.floor((count * 3) / 4);
  const perIndex = 10_000;
  let entries = 0;
  // two snapshots per slice of chunks, so half the index entries are repeats the digest cache absorbs
  for (let first = 0; first < referenced; first += perIndex) {
    const slice = digests.slice(first, Math.min(first + perIndex, referenced));
    for (const time of ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"]) {
      const dir = join(root, "host", `client${first / perIndex}`, time);
      mkdirSync(dir, { recursive: true });
      const file = await open(join(dir, "root.pxar.didx"), "w");
      const writer = await DynamicIndexWriter.create(file);
      for (const [i, digest] of slice.entries()) await writer.append((i + 1) * 4096, digest);
      await writer.close();
      await file.close();
      entries += slice.length;
    }
  }
  return { entries, referenced };
}

async function gcRows(root: string, count: number): Promise<void> {
  const buildStart = performance.now();
  const { entries, referenced } = await buildGcStore(root, count);
  row(
    "build GC store (direct writes)",
    (performance.now() - buildStart) / 1000,
    "s",
    `${count} chunks`,
  );
  delayRow("CPU-bound loop yielding every 8 ms: event-loop delay", await busyLoopDelay());
  for (const run of ["first GC (removes 1/4)", "second GC (all in use)"]) {
    const phaseStart = new Map<GcPhase, number>();
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const start = performance.now();
    const status = await garbageCollect(root, {
      now: () => Date.now() + 3 * DAY_MS,
      onProgress: (phase) => {
        if (!phaseStart.has(phase)) phaseStart.set(phase, performance.now());
      },
    });
    const end = performance.now();
    delay.disable();
    const markSeconds = (phaseStart.get("sweep")! - start) / 1000;
    const sweepSeconds = (end - phaseStart.get("sweep")!) / 1000;
    const files = status["disk-chunks"] + status["removed-chunks"] + status["pending-chunks"];
    row(
      `${run}: mark`,
      referenced / markSeconds,
      "chunks/s",
      `${(entries / markSeconds).toFixed(0)} index entries/s`,
    );
    row(`${run}: sweep`, files / sweepSeconds, "chunks/s", `${status["removed-chunks"]} removed`);
    delayRow(`${run}: event-loop delay`, delay);
  }
}

/** The delay any CPU-bound task slicing its work like GC sees on this machine right now. */
async function busyLoopDelay(): Promise<IntervalHistogram> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const end = performance.now() + 2000;
  while (performance.now() < end) {
    const slice = performance.now();
    while (performance.now() - slice < 8) {}
    await setImmediate();
  }
  histogram.disable();
  return histogram;
}

function delayRow(name: string, histogram: IntervalHistogram): void {
  const p99 = histogram.percentile(99) / 1e6;
  row(`${name}, worst`, histogram.max / 1e6, "ms", `p99 ${p99.toFixed(1)} ms`);
}

/** A 256 MiB image backed up in 4 MiB chunks (half random, half zeros: compressible), then verified. */
async function verifyRow(path: string): Promise<void> {
  const datastore = await Datastore.create(path, { name: "bench", syncLevel: "none" });
  const chunkSize = 4 * MiB;
  const imageSize = 64 * chunkSize;
  const writer = await datastore.beginBackup({
    type: "vm",
    id: "100",
    time: 1_700_000_000,
    owner: "root@pam",
  });
  const fixed = await writer.createFixedIndex("disk.img.fidx", imageSize, chunkSize);
  for (let i = 0; i < imageSize / chunkSize; i++) {
    const data = Buffer.concat([
      pseudoRandomBuffer(chunkSize / 2, `image-${i}`),
      Buffer.alloc(chunkSize / 2),
    ]);
    const chunk = encodeChunk(data);
    await writer.insertChunk(chunk.digest, chunk.encoded, data.length);
    await fixed.writer.append(chunk.digest);
  }
  const manifest = newManifest({ backupType: "vm", backupId: "100", backupTime: 1_700_000_000 });
  await writer.finish(
    addManifestFile(manifest, { filename: "disk.img.fidx", ...(await fixed.close()) }),
  );
  const start = performance.now();
  const result = await verifySnapshot(datastore, writer.ref, { verifier: new Verifier() });
  const seconds = (performance.now() - start) / 1000;
  if (result.state !== "ok") throw new Error(`verify benchmark snapshot is ${result.state}`);
  row(
    "verify a snapshot (4 MiB chunks, 2:1 compressible)",
    imageSize / 1e6 / seconds,
    "MB/s",
    "of image data, warm cache",
  );
}

function printTable(): void {
  const load = loadavg().map((l) => l.toFixed(1));
  console.log(`load average at the end: ${load.join(" ")} (${availableParallelism()} CPUs)`);
  const name = Math.max(...rows.map((r) => r.name.length));
  const value = Math.max(...rows.map((r) => r.value.length));
  console.log(`| ${"measure".padEnd(name)} | ${"rate".padStart(value)} | note`);
  console.log(`|${"-".repeat(name + 2)}|${"-".repeat(value + 2)}|------`);
  for (const r of rows)
    console.log(`| ${r.name.padEnd(name)} | ${r.value.padStart(value)} | ${r.note}`);
}

/** `rm -rf` removes 65,536 directories several times faster than Node's recursive rmSync. */
function removeTree(path: string): void {
  execFileSync("rm", ["-rf", "--", path]);
}

async function main(): Promise<void> {
  const at = process.argv.indexOf("--chunks");
  const count = at > 0 ? Number(process.argv[at + 1]) : 200_000;
  const base = mkdtempSync(join(tmpdir(), "cairn-bench-datastore-"));
  try {
    await insertRows(join(base, "inserts"));
    removeTree(join(base, "inserts"));
    await verifyRow(join(base, "verify"));
    removeTree(join(base, "verify"));
    await gcRows(join(base, "gc"), count);
  } finally {
    removeTree(base);
  }
  printTable();
}

await main();
