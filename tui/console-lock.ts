/**
 * The console starts the installer, or first-boot setup, on every terminal (tty1, ttyS0) and only
 * one may run it: the first takes a lock file; the others show its progress from its log, so the
 * screen and the serial line both tell what happens.
 */
import { appendFile, open, readFile, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export interface ConsoleLock {
  /** What holds it, for the other consoles: "The installer". */
  holder: string;
  lock: string;
  /** Progress lines of the unattended run, for the consoles that did not get the lock. */
  log: string;
}

export const INSTALL_LOCK: ConsoleLock = {
  holder: "The installer",
  lock: "/run/cairn-install.lock",
  log: "/run/cairn-install.log",
};

export const FIRSTBOOT_LOCK: ConsoleLock = {
  holder: "First-boot setup",
  lock: "/run/cairn-firstboot.lock",
  log: "/run/cairn-firstboot.log",
};

/** Writes a progress line to this terminal and to the log the other consoles follow. */
export type ProgressWriter = (line: string) => Promise<void>;

export interface FollowOptions {
  out?: (text: string) => void;
  pollMs?: number;
  /** Stop following after this long (tests); by default until the lock is released. */
  maxMs?: number;
}

/**
 * Runs `work` holding the lock, or follows the holder's log until it releases the lock and
 * returns false without running it. Once work calls `holdUntilReboot` (it is about to change
 * disks) the lock stays, even on failure, until the machine restarts (it lives in /run): the run
 * happens at most once per boot and no other console starts one while the machine reboots.
 */
export async function withConsoleLock(
  paths: ConsoleLock,
  work: (progress: ProgressWriter, holdUntilReboot: () => void) => Promise<void>,
  follow: FollowOptions = {},
): Promise<boolean> {
  const lock = await open(paths.lock, "wx").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "EEXIST") return undefined;
    throw err;
  });
  if (!lock) {
    await followHolder(paths, follow);
    return false;
  }
  let held = false;
  try {
    await lock.write(`${process.pid}\n`);
    await rm(paths.log, { force: true });
    const progress = async (line: string) => {
      process.stdout.write(`${line}\n`);
      await appendFile(paths.log, `${line}\n`);
    };
    await work(progress, () => {
      held = true;
    });
    return true;
  } finally {
    await lock.close();
    if (!held) await rm(paths.lock, { force: true });
  }
}

/** Prints the install log as it grows, until the lock file is gone. */
async function followHolder(paths: ConsoleLock, options: FollowOptions): Promise<void> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const pollMs = options.pollMs ?? 1000;
  const deadline = options.maxMs === undefined ? Infinity : Date.now() + options.maxMs;
  out(`${paths.holder} is running on another console.\n`);
  let shown = 0;
  for (;;) {
    const held = await readFile(paths.lock).then(
      () => true,
      () => false,
    );
    const log = await readFile(paths.log, "utf8").catch(() => "");
    if (log.length > shown) {
      out(log.slice(shown));
      shown = log.length;
    }
    if (!held || Date.now() >= deadline) return;
    await sleep(pollMs);
  }
}
