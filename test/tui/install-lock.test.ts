import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { type InstallLockPaths, withInstallLock } from "../../tui/install-lock.js";

async function lockPaths(): Promise<{ paths: InstallLockPaths; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-install-lock-"));
  return {
    paths: { lock: join(dir, "install.lock"), log: join(dir, "install.log") },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

test("a second console follows the holder's progress and runs nothing itself", async (t) => {
  const { paths, cleanup } = await lockPaths();
  t.teardown(cleanup);
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  const holder = withInstallLock(async (progress) => {
    await progress("ok  partition: GPT on /dev/vda");
    await progress("ok  copy: 1234 files");
    wrote();
    await released;
  }, paths);
  await written;

  let shown = "";
  let ranSecond = false;
  const follower = withInstallLock(
    async () => {
      ranSecond = true;
    },
    paths,
    { out: (text) => (shown += text), pollMs: 20 },
  );
  await sleep(100);
  release();
  t.true(await holder);
  t.false(await follower);
  t.false(ranSecond);
  t.is(
    shown,
    "The installer is running on another console.\nok  partition: GPT on /dev/vda\nok  copy: 1234 files\n",
  );
  t.false(existsSync(paths.lock), "released: another console may install now");
});

test("once disks change the lock is kept, even when the install fails", async (t) => {
  const { paths, cleanup } = await lockPaths();
  t.teardown(cleanup);
  await t.throwsAsync(
    withInstallLock(async (progress, holdUntilReboot) => {
      holdUntilReboot();
      await progress("FAILED partition: sgdisk exited with 4");
      throw new Error("install stopped at partition");
    }, paths),
    { message: /install stopped at partition/ },
  );
  t.true(existsSync(paths.lock));
  let shown = "";
  let ran = false;
  const followed = await withInstallLock(
    async () => {
      ran = true;
    },
    paths,
    { out: (text) => (shown += text), pollMs: 10, maxMs: 100 },
  );
  t.false(followed);
  t.false(ran, "no second install starts on another console");
  t.regex(shown, /FAILED partition: sgdisk exited with 4\n$/);
});

test("a failure before any disk changed releases the lock", async (t) => {
  const { paths, cleanup } = await lockPaths();
  t.teardown(cleanup);
  await t.throwsAsync(
    withInstallLock(async () => {
      throw new Error("answer file key install.disk: give exactly one of disk, disk-serial");
    }, paths),
  );
  t.false(existsSync(paths.lock));
});
