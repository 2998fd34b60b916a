import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import test from "ava";
import { LockDirectory } from "../../appliance/datastore/locks.js";

const LOCKS_MODULE = pathToFileURL(
  fileURLToPath(new URL("../../appliance/datastore/locks.ts", import.meta.url)),
).href;

function tempLocks(t: { teardown(fn: () => void): void }): LockDirectory {
  const dir = mkdtempSync(join(tmpdir(), "cairn-locks-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return new LockDirectory(join(dir, ".locks"));
}

/** A node child running `code` (an ES module with tsx loaded); resolves its first stdout line. */
function spawnModule(code: string): { child: ChildProcess; firstLine: Promise<string> } {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const firstLine = new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (exitCode) =>
      reject(new Error(`child exited (${exitCode}) before reporting`)),
    );
  });
  return { child, firstLine };
}

test("two exclusive locks on one name conflict within one process", (t) => {
  const locks = tempLocks(t);
  const first = locks.tryAcquire("host/a", "exclusive");
  t.truthy(first);
  t.is(locks.tryAcquire("host/a", "exclusive"), undefined);
  t.is(locks.tryAcquire("host/a", "shared"), undefined);
  t.truthy(locks.tryAcquire("host/b", "exclusive"), "other names are independent");
  first!.release();
  t.false(first!.held);
  t.truthy(locks.tryAcquire("host/a", "exclusive"), "free again after release");
});

test("shared locks coexist and keep an exclusive one out", (t) => {
  const locks = tempLocks(t);
  const readers = [locks.tryAcquire("snap", "shared"), locks.tryAcquire("snap", "shared")];
  t.true(readers.every((lock) => lock?.held));
  t.is(locks.tryAcquire("snap", "exclusive"), undefined);
  readers[0]!.release();
  t.is(locks.tryAcquire("snap", "exclusive"), undefined, "one reader still holds it");
  readers[1]!.release();
  readers[1]!.release(); // idempotent
  t.truthy(locks.tryAcquire("snap", "exclusive"));
});

test("a busy lock is a lock-busy error naming the lock and the purpose", async (t) => {
  const locks = tempLocks(t);
  const held = await locks.acquire("gc", "exclusive");
  const err = await t.throwsAsync(() => locks.acquire("gc", "exclusive", { purpose: "start GC" }), {
    code: "CAIRN_E_DATASTORE_LOCK_BUSY",
  });
  t.regex(err!.message, /gc is locked.*cannot start GC/);
  t.like((err as unknown as { context: object }).context, { lock: "gc", mode: "exclusive" });
  held.release();
});

test("acquire with a timeout waits for the holder to release", async (t) => {
  const locks = tempLocks(t);
  const held = await locks.acquire("manifest", "exclusive");
  setTimeout(() => held.release(), 100);
  const started = Date.now();
  const lock = await locks.acquire("manifest", "exclusive", { timeoutMs: 5000 });
  t.true(lock.held);
  t.true(Date.now() - started >= 80, "it waited");
  lock.release();
});

test("a lock held by another process is busy until that process is killed", async (t) => {
  const locks = tempLocks(t);
  const { child, firstLine } = spawnModule(`
    const { LockDirectory } = await import(${JSON.stringify(LOCKS_MODULE)});
    const lock = new LockDirectory(${JSON.stringify(locks.dir)}).tryAcquire("host/vm1", "exclusive");
    console.log(lock ? "locked" : "busy");
    setInterval(() => {}, 1000);
  `);
  t.teardown(() => child.kill("SIGKILL"));
  t.is(await firstLine, "locked");

  t.is(locks.tryAcquire("host/vm1", "exclusive"), undefined);
  t.is(locks.tryAcquire("host/vm1", "shared"), undefined);
  await t.throwsAsync(() => locks.acquire("host/vm1", "exclusive", { timeoutMs: 100 }), {
    code: "CAIRN_E_DATASTORE_LOCK_BUSY",
  });

  const exited = once(child, "exit");
  child.kill("SIGKILL");
  const [, signal] = await exited;
  t.is(signal, "SIGKILL");
  const lock = locks.tryAcquire("host/vm1", "exclusive");
  t.truthy(lock, "the kernel dropped the dead process's lock");
  lock!.release();
  t.is(readdirSync(locks.dir).length, 1, "one lock file, left in place");
});
