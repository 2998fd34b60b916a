import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { type ConsoleLock, withConsoleLock } from "../../tui/console-lock.js";

async function lockPaths(): Promise<{ paths: ConsoleLock; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-install-lock-"));
  return {
    paths: {
      holder: "The installer",
      lock: join(dir, "install.lock"),
      log: join(dir, "install.log"),
    },
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
  const holder = withConsoleLock(paths, async (progress) => {
    await progress("ok  partition: GPT on /dev/vda");
    await progress("ok  copy: 1234 files");
    wrote();
    await released;
  });
  await written;

  let shown = "";
  let ranSecond = false;
  const follower = withConsoleLock(
    paths,
    async () => {
      ranSecond = true;
    },
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
    withConsoleLock(paths, async (progress, holdUntilReboot) => {
      holdUntilReboot();
      await progress("FAILED partition: sgdisk exited with 4");
      throw new Error("install stopped at partition");
    }),
    { message: /install stopped at partition/ },
  );
  t.true(existsSync(paths.lock));
  let shown = "";
  let ran = false;
  const followed = await withConsoleLock(
    paths,
    async () => {
      ran = true;
    },
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
    withConsoleLock(paths, async () => {
      throw new Error("answer file key install.disk: give exactly one of disk, disk-serial");
    }),
  );
  t.false(existsSync(paths.lock));
});
