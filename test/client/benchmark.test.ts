import test from "ava";
import { benchmarkCommand } from "../../appliance/cli/client-benchmark.js";
import { benchmarkBuffer } from "../../appliance/client/benchmark.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

test("the benchmark buffer is 1 MiB of little-endian u32 counters", (t) => {
  const buffer = benchmarkBuffer();
  t.is(buffer.length, 1024 * 1024);
  t.is(buffer.readUInt32LE(0), 0);
  t.is(buffer.readUInt32LE(4 * 1000), 1000);
  t.is(buffer.readUInt32LE(buffer.length - 4), 256 * 1024 - 1);
});

test("benchmark with a repository measures every row, TLS included, as PBS's JSON", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  await benchmarkCommand(
    { repository: server.repository, outputFormat: "json", timeScale: 0.05 },
    env,
  );
  const rows = JSON.parse(env.output().toString()) as Record<
    string,
    { speed?: number; top: number }
  >;
  t.deepEqual(Object.keys(rows), [
    "tls",
    "sha256",
    "compress",
    "decompress",
    "verify",
    "aes256_gcm",
  ]);
  for (const [name, row] of Object.entries(rows)) t.true((row.speed ?? 0) > 0, `${name} measured`);
  t.is(rows.tls!.top, 1_235_000_000);
  // the benchmark session leaves no snapshot
  t.deepEqual(await server.store.listSnapshots([], { type: "host", id: "benchmark" }), []);
});

test("benchmark without a repository shows TLS as not tested", async (t) => {
  const env = capturedEnvironment({});
  await benchmarkCommand({ outputFormat: "text", timeScale: 0.02 }, env);
  const text = env.output().toString();
  t.regex(text, /^TLS \(maximal backup upload speed\)\s+not tested$/m);
  t.regex(text, /^SHA256 checksum computation speed\s+[\d.]+ MB\/s \(\d+%\)$/m);
});
