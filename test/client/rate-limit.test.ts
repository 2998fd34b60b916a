import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { restoreCommand } from "../../appliance/cli/client-restore.js";
import { parseByteSize } from "../../appliance/client/units.js";
import { type Clock, TokenBucket } from "../../appliance/util/token-bucket.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { runCairn } from "./fixtures/cli.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

const MiB = 1024 * 1024;

test("byte sizes are read as PBS reads them: decimal units, binary with i, B optional", (t) => {
  const sizes: [string, number][] = [
    ["500", 500],
    ["1300b", 1300],
    ["1.5 KB", 1500],
    ["10M", 10_000_000],
    ["10mb", 10_000_000],
    ["2kib", 2048],
    ["1Mi", MiB],
    ["1MiB", MiB],
    ["1.5GiB", 1.5 * 1024 * MiB],
    ["2T", 2e12],
  ];
  for (const [text, bytes] of sizes) t.is(parseByteSize(text), bytes, text);
  for (const text of ["", "-10", "ten", "10X", "10 MiBs", "1..5K"]) {
    t.is(parseByteSize(text), undefined, text);
  }
});

/** A clock that only moves when the bucket sleeps, recording each sleep. */
function handClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(Math.round(ms));
      now += ms;
    },
  };
}

test("the token bucket lets a burst pass, then paces bytes at the rate, in order", async (t) => {
  const clock = handClock();
  const bucket = new TokenBucket({ rate: 1000, burst: 1000 }, clock);
  await bucket.take(1000); // the full bucket
  t.deepEqual(clock.sleeps, []);
  await Promise.all([bucket.take(500), bucket.take(2000)]);
  t.deepEqual(clock.sleeps, [500, 2000]);
  await bucket.take(1);
  t.deepEqual(clock.sleeps, [500, 2000, 1]);
});

test("a request larger than the bucket waits for its size, not forever", async (t) => {
  const clock = handClock();
  const bucket = new TokenBucket({ rate: 100, burst: 10 }, clock);
  await bucket.take(1010);
  t.deepEqual(clock.sleeps, [10_000]);
  t.throws(() => new TokenBucket({ rate: 0 }), { instanceOf: RangeError });
});

test("--rate paces a backup's upload and a restore's download", async (t) => {
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  await mkdir(src);
  // random bytes do not compress: 1 MiB goes over the wire, in about 4 s at 256 KiB/s
  const data = pseudoRandomBuffer(MiB, "rate");
  await writeFile(join(src, "random.bin"), data);

  const paced = ["--rate", "256KiB", "--burst", "16KiB"];
  const backup = await runCairn(
    ["backup", `root.pxar:${src}`, "--backup-id", "paced", "--backup-time", "1700000000", ...paced],
    server.env,
  );
  t.is(backup.status, 0, backup.stderr);
  const seconds = Number(/, ([\d.]+) s, [\d.]+ MB\/s/.exec(backup.stderr)?.[1]);
  t.log(`backup: ${seconds} s`);
  t.true(seconds >= 3, `1 MiB at 256 KiB/s took ${seconds} s`);

  const target = join(server.scratch, "restored");
  const started = performance.now();
  await restoreCommand(
    "host/paced/2023-11-14T22:13:20Z",
    "root.pxar",
    target,
    { rate: 256 * 1024, burst: 16 * 1024 },
    capturedEnvironment(server.env),
  );
  const restoreSeconds = (performance.now() - started) / 1000;
  t.log(`restore: ${restoreSeconds} s`);
  t.true(restoreSeconds >= 3, `1 MiB at 256 KiB/s took ${restoreSeconds} s`);
  t.true((await readFile(join(target, "random.bin"))).equals(data));

  const bad = await runCairn(["backup", `root.pxar:${src}`, "--rate", "fast"], server.env);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /--rate must be a positive byte size like 500K, 10M or 1MiB, got 'fast'/);
});
