/** The kernel's mount table and device nodes, read directly: the install checks both between steps. */
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SetupError } from "../errors.js";

/** Mount points in /proc/self/mountinfo text (field 5, with the kernel's octal escapes undone). */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((field): field is string => field !== undefined && field !== "")
    .map((field) =>
      field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(Number.parseInt(octal, 8))),
    );
}

/** Everything mounted on or below `dir`, deepest last. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const base = resolve(dir);
  const text = await readFile("/proc/self/mountinfo", "utf8");
  return parseMountPoints(text).filter((point) => point === base || point.startsWith(`${base}/`));
}

/** Waits until every path is a block device (the kernel and udev add partitions asynchronously). */
export async function waitForBlockDevices(
  paths: readonly string[],
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing: string[] = [];
    for (const path of paths) {
      const info = await stat(path).catch(() => undefined);
      if (!info?.isBlockDevice()) missing.push(path);
    }
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new SetupError(
        "step-failed",
        `the kernel shows no ${missing.join(", ")} after partitioning`,
      );
    }
    await sleep(200);
  }
}
