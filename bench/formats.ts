/**
 * The rows of `proxmox-backup-client benchmark` measured the PBS way (pbs-formats.md §15), plus
 * Cairn's chunker, in MB/s (10^6 B/s) of wall time and of CPU time (steadier on a shared machine).
 * `--json` prints B/s instead of the table.
 */
import { createHash, scryptSync } from "node:crypto";
import { Compressor, Decompressor } from "zstd-napi";
import {
  type BoundaryFinder,
  defaultFinder,
  nativeFinder,
  typescriptFinder,
} from "../appliance/format/buzhash-scan.js";
import { Chunker, chunkStream } from "../appliance/format/chunker.js";
import { CryptConfig } from "../appliance/format/crypt-config.js";
import { pseudoRandomBuffer, u32CounterBuffer } from "../test/helpers/generators.js";

const MiB = 1024 * 1024;

interface Speed {
  /** Bytes per second of wall time, as PBS reports. */
  speed: number;
  /** Bytes per second of this process's CPU time. */
  cpuSpeed: number;
}

interface Row extends Speed {
  key: string;
  title: string;
  /** PBS's reference figure (AMD Ryzen 7 2700X, 2020), bytes per second. */
  top?: number;
}

/** Runs `once` until `seconds` have passed, as PBS does. */
function rate(seconds: number, bytesPerRun: number, once: () => void): Speed {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let runs = 0;
  let elapsed = 0;
  do {
    once();
    runs++;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds);
  return speeds(runs * bytesPerRun, elapsed, process.cpuUsage(cpuStart));
}

function speeds(bytes: number, seconds: number, cpu: NodeJS.CpuUsage): Speed {
  return { speed: bytes / seconds, cpuSpeed: bytes / ((cpu.user + cpu.system) / 1e6) };
}

function pbsRows(): Row[] {
  const data = u32CounterBuffer(MiB);
  const compressor = new Compressor();
  compressor.setParameters({ compressionLevel: 1 });
  const decompressor = new Decompressor();
  const compressed = compressor.compress(data);
  const digest = createHash("sha256").update(data).digest();
  const crypt = new CryptConfig(scryptSync("test", "", 32));
  const verify = () => {
    const plain = decompressor.decompress(compressed);
    const ok =
      plain.length === data.length && createHash("sha256").update(plain).digest().equals(digest);
    if (!ok) throw new Error("verify benchmark decoded the wrong data");
  };
  const MB = 1e6;
  return [
    {
      key: "sha256",
      title: "SHA256 checksum computation speed",
      ...rate(1, data.length, () => createHash("sha256").update(data).digest()),
      top: 2022 * MB,
    },
    {
      key: "compress",
      title: "ZStd level 1 compression speed",
      ...rate(3, data.length, () => compressor.compress(data)),
      top: 752 * MB,
    },
    {
      key: "decompress",
      title: "ZStd level 1 decompression speed",
      ...rate(1, data.length, () => decompressor.decompress(compressed)),
      top: 1198 * MB,
    },
    {
      key: "verify",
      title: "Chunk verification speed",
      ...rate(1, data.length, verify),
      top: 758 * MB,
    },
    {
      key: "aes256_gcm",
      title: "AES256 GCM encryption speed",
      ...rate(1, data.length, () => crypt.encrypt(data)),
      top: 3645 * MB,
    },
  ];
}

/** Finds every boundary of `data` fed as one piece. */
function chunkAll(data: Buffer, avg: number, finder: BoundaryFinder): void {
  const chunker = new Chunker({ avg, finder });
  let rest: Uint8Array = data;
  for (let cut = chunker.scan(rest); cut >= 0; cut = chunker.scan(rest)) rest = rest.subarray(cut);
}

async function chunkerRows(): Promise<Row[]> {
  const data = pseudoRandomBuffer(64 * MiB, "bench");
  const rows: Row[] = [];
  const finders: [string, BoundaryFinder | undefined][] = [
    ["native", nativeFinder],
    ["TypeScript", typescriptFinder],
  ];
  for (const [name, finder] of finders) {
    if (!finder) continue;
    const tag = name.toLowerCase();
    rows.push({
      key: `chunker_${tag}_avg4m`,
      title: `Chunker (${name}), avg 4 MiB`,
      ...rate(1, data.length, () => chunkAll(data, 4 * MiB, finder)),
    });
    rows.push({
      key: `chunker_${tag}_avg64k`,
      title: `Chunker (${name}), avg 64 KiB`,
      ...rate(1, data.length, () => chunkAll(data, 64 * 1024, finder)),
    });
  }
  const pieces = Array.from({ length: 64 }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB));
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let bytes = 0;
  while (performance.now() - start < 1000) {
    for await (const chunk of chunkStream(asSource(pieces))) bytes += chunk.length;
  }
  const elapsed = (performance.now() - start) / 1000;
  rows.push({
    key: "chunk_stream_avg4m",
    title: "chunkStream, 1 MiB pieces to whole chunks",
    ...speeds(bytes, elapsed, process.cpuUsage(cpuStart)),
  });
  return rows;
}

async function* asSource(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* pieces;
}

function printTable(rows: Row[], ratio: Speed): void {
  const mbs = (bytesPerSecond: number) => (bytesPerSecond / 1e6).toFixed(2);
  const width = Math.max(...rows.map((row) => row.title.length));
  console.log(`| ${"Name".padEnd(width)} |      MB/s | MB/s of CPU | PBS reference |`);
  console.log(`|${"-".repeat(width + 2)}|-----------|-------------|---------------|`);
  for (const row of rows) {
    const reference = row.top
      ? `${Math.round((row.speed / row.top) * 100)} %`.padStart(13)
      : " ".repeat(13);
    const speed = mbs(row.speed).padStart(9);
    console.log(
      `| ${row.title.padEnd(width)} | ${speed} | ${mbs(row.cpuSpeed).padStart(11)} | ${reference} |`,
    );
  }
  const used = defaultFinder === nativeFinder ? "native" : "TypeScript";
  const wall = ratio.speed.toFixed(2);
  console.log(
    `\nChunker (${used}, avg 4 MiB) / SHA-256: ${wall} (wall), ${ratio.cpuSpeed.toFixed(2)} (CPU)`,
  );
}

const rows = [...pbsRows(), ...(await chunkerRows())];
const rowOf = (key: string) => rows.find((row) => row.key === key)!;
const chunker = rowOf(`chunker_${defaultFinder === nativeFinder ? "native" : "typescript"}_avg4m`);
const sha256 = rowOf("sha256");
const ratio = { speed: chunker.speed / sha256.speed, cpuSpeed: chunker.cpuSpeed / sha256.cpuSpeed };
if (process.argv.includes("--json")) {
  const json = Object.fromEntries(rows.map(({ key, title: _, ...speed }) => [key, speed]));
  console.log(JSON.stringify({ ...json, chunker_sha256_ratio: ratio }, null, 2));
} else {
  printTable(rows, ratio);
}
