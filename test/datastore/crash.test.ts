import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import type { SyncLevel } from "../../appliance/datastore/chunk-store.js";
import { Datastore } from "../../appliance/datastore/datastore.js";
import { Verifier, verifySnapshot } from "../../appliance/datastore/verify.js";
import { writeSampleBackup } from "./fixtures/sample-backup.js";

/**
 * Crash safety: a child process writes backups in a loop (fixtures/backup-loop.ts) and is
 * SIGKILLed at a random moment. After each kill, nothing unfinished may be listed as finished,
 * every finished snapshot must verify completely, and the next backup of the group must succeed.
 * Two lanes run side by side, each with its own datastore and sync level, to spread the child
 * start cost (the `filesystem` sync level is covered by the round trip in snapshot-writer.test.ts).
 */

const LOOP_SCRIPT = fileURLToPath(new URL("./fixtures/backup-loop.ts", import.meta.url));
const LANES: SyncLevel[] = ["none", "file"];
const TRIALS_PER_LANE = 25;
/** Kill between 0 and this many ms after the child reports ready (a backup takes ~20 ms). */
const MAX_KILL_DELAY_MS = 400;
const OWNER = "crash@pbs";
const GROUP = { type: "vm" as const, id: "crash" };

interface ChildReport {
  finished: Set<number>;
  removing: Set<number>;
}

/** Starts the loop, waits for `ready`, lets it run `delayMs`, kills it; returns what it reported. */
async function runAndKill(
  root: string,
  syncLevel: SyncLevel,
  delayMs: number,
): Promise<ChildReport> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", LOOP_SCRIPT, root, syncLevel, GROUP.id],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const report: ChildReport = { finished: new Set(), removing: new Set() };
  let stdout = "";
  let stderr = "";
  let ready: () => void;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  child.stdout!.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
    if (stdout.includes("ready\n")) ready();
  });
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const exited = once(child, "exit");
  await Promise.race([isReady, exited]);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill("SIGKILL");
  const [code, signal] = await exited;
  if (signal !== "SIGKILL") {
    throw new Error(`backup loop ended by itself (code ${code}): ${stderr}`);
  }
  for (const line of stdout.split("\n")) {
    const [word, time] = line.split(" ");
    if (word === "finished") report.finished.add(Number(time));
    if (word === "removing") report.removing.add(Number(time));
  }
  return report;
}

async function checkAfterKill(
  t: ExecutionContext,
  datastore: Datastore,
  report: ChildReport,
  verifiedBefore: Set<number>,
  trial: string,
): Promise<void> {
  const listed = (await datastore.listSnapshots([], GROUP).catch(() => [])).filter(
    (snapshot) => !snapshot.finished || !report.removing.has(snapshot.time),
  );
  const finished = new Set(listed.filter((s) => s.finished).map((s) => s.time));
  for (const time of report.finished) {
    if (!report.removing.has(time) && !finished.has(time)) {
      t.fail(`${trial}: the child finished ${time}, but it is not listed as finished`);
    }
  }
  for (const snapshot of listed) {
    if (!snapshot.finished || verifiedBefore.has(snapshot.time)) continue;
    t.is(snapshot.manifestError, undefined, `${trial}: manifest of ${snapshot.time} readable`);
    const result = await verifySnapshot(datastore, snapshot, { verifier: new Verifier() });
    if (result.state !== "ok") {
      t.fail(
        `${trial}: ${result.snapshot} is listed finished but ${result.state}: ${result.problems.map((p) => p.message).join("; ")}`,
      );
    }
    verifiedBefore.add(snapshot.time);
  }
  t.is(datastore.writers.oldestActive(), undefined, `${trial}: the killed writer is not running`);

  const newest = Math.max(0, ...listed.map((s) => s.time), ...report.finished);
  const next = await writeSampleBackup(datastore, {
    ...GROUP,
    time: newest + 1,
    owner: OWNER,
    seed: "next",
  });
  const after = await datastore.listSnapshots([], GROUP);
  t.deepEqual(
    after.filter((s) => !s.finished).map((s) => s.time),
    [],
    `${trial}: stale unfinished snapshots removed by the next backup`,
  );
  t.true(
    after.at(-1)?.finished && after.at(-1)?.time === next.ref.time,
    `${trial}: next backup finished`,
  );
  verifiedBefore.add(next.ref.time);
  t.deepEqual(readdirSync(datastore.writers.dir), [], `${trial}: no writer registration left`);
}

async function lane(t: ExecutionContext, syncLevel: SyncLevel): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `cairn-crash-${syncLevel}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "store");
  const datastore = await Datastore.create(root, { name: "crash", syncLevel, preallocate: false });
  const verified = new Set<number>();
  let completedBackups = 0;
  for (let trial = 0; trial < TRIALS_PER_LANE; trial++) {
    const delay = Math.floor(Math.random() * MAX_KILL_DELAY_MS);
    const report = await runAndKill(root, syncLevel, delay);
    completedBackups += report.finished.size;
    await checkAfterKill(
      t,
      datastore,
      report,
      verified,
      `${syncLevel} trial ${trial} (killed after ${delay} ms)`,
    );
  }
  return completedBackups;
}

test("backups killed at random moments never leave a broken finished snapshot", async (t) => {
  t.timeout(110_000);
  const completed = await Promise.all(LANES.map((syncLevel) => lane(t, syncLevel)));
  t.log(
    `${LANES.length * TRIALS_PER_LANE} kills; backups completed before the kills: ${completed.join(", ")}`,
  );
  t.true(
    completed.every((count) => count > 0),
    "every lane's children completed backups, so kills landed in the middle of the work",
  );
});
