import { createHash, scryptSync } from "node:crypto";
import { decodeChunk, encodeChunk } from "../format/chunk.js";
import { CryptConfig } from "../format/crypt-config.js";
import { compressToScratch, decompressBounded } from "../format/zstd.js";
import { BackupWriterClient } from "../protocol/client/backup-writer-client.js";
import type { ServerAddress } from "../protocol/client/upgrade-connect.js";

const MiB = 1024 * 1024;

/** PBS's benchmark rows (pbs-formats.md §15): JSON key, table label, 2020 reference in B/s. */
export const BENCHMARK_ROWS = [
  { key: "tls", label: "TLS (maximal backup upload speed)", top: 1_235_000_000 },
  { key: "sha256", label: "SHA256 checksum computation speed", top: 2_022_000_000 },
  { key: "compress", label: "ZStd level 1 compression speed", top: 752_000_000 },
  { key: "decompress", label: "ZStd level 1 decompression speed", top: 1_198_000_000 },
  { key: "verify", label: "Chunk verification speed", top: 758_000_000 },
  { key: "aes256_gcm", label: "AES256 GCM encryption speed", top: 3_645_000_000 },
] as const;

export type BenchmarkKey = (typeof BENCHMARK_ROWS)[number]["key"];
/** Bytes per second per row; absent when not tested. */
export type BenchmarkResult = Partial<Record<BenchmarkKey, number>>;

export interface BenchmarkOptions {
  /** With a server: the TLS row through a benchmark backup session. */
  address?: ServerAddress;
  store?: string;
  /** Scales every measuring time (tests use a fraction). */
  timeScale?: number;
}

/** 1 MiB of little-endian u32 counters, PBS's test buffer. */
export function benchmarkBuffer(): Buffer {
  const buffer = Buffer.alloc(MiB);
  for (let i = 0; i < MiB / 4; i++) buffer.writeUInt32LE(i, i * 4);
  return buffer;
}

export async function runBenchmark(options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const scale = options.timeScale ?? 1;
  const data = benchmarkBuffer();
  const result: BenchmarkResult = {};
  if (options.address && options.store)
    result.tls = await tlsSpeed(options.address, options.store, 5 * scale);
  result.sha256 = measure(1 * scale, () => createHash("sha256").update(data).digest());
  result.compress = measure(3 * scale, () => compressToScratch(data));
  const compressed = Buffer.from(compressToScratch(data));
  result.decompress = measure(1 * scale, () => decompressBounded(compressed, MiB));
  const chunk = encodeChunk(data);
  result.verify = measure(1 * scale, () => decodeChunk(chunk.encoded, chunk.digest, { size: MiB }));
  const crypt = new CryptConfig(
    scryptSync("test", "", 32, { N: 65536, r: 8, p: 1, maxmem: 128 * MiB }),
  );
  result.aes256_gcm = measure(1 * scale, () => crypt.encrypt(data));
  return result;
}

/** Loops `work` on 1 MiB for at least `seconds`; bytes per second. */
function measure(seconds: number, work: () => unknown): number {
  const start = performance.now();
  let rounds = 0;
  do {
    work();
    rounds += 1;
  } while (performance.now() - start < seconds * 1000);
  return (rounds * MiB) / ((performance.now() - start) / 1000);
}

/** 4 MiB bodies to /speedtest of a host/benchmark session, a few in flight, for `seconds`. */
async function tlsSpeed(address: ServerAddress, store: string, seconds: number): Promise<number> {
  const writer = await BackupWriterClient.start(address, {
    store,
    type: "host",
    id: "benchmark",
    time: Math.floor(Date.now() / 1000),
    benchmark: true,
  });
  try {
    const body = Buffer.alloc(4 * MiB, 0x41);
    const start = performance.now();
    let sent = 0;
    const deadline = start + seconds * 1000;
    const lane = async () => {
      while (performance.now() < deadline) {
        await writer.speedtest(body);
        sent += body.length;
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    return sent / ((performance.now() - start) / 1000);
  } finally {
    await writer.close();
  }
}
