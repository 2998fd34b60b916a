import { readFileSync } from "node:fs";

/** Field 22 of /proc/<pid>/stat: clock ticks after boot when the process started. */
function procStartTicks(pid: number | "self"): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) may contain spaces and ')', so count from its last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) && ticks >= 0 ? ticks : undefined;
  } catch {
    return undefined;
  }
}

const FALLBACK_START = Math.floor((Date.now() - performance.now()) / 1000);

/**
 * This process's start time as PBS records it in UPIDs (clock ticks after boot, from /proc), so a
 * pid reused later gives a different UPID. Without /proc: the epoch second the process started.
 */
export function processStartTime(): number {
  return procStartTicks("self") ?? FALLBACK_START;
}

/** Whether the process that started a task still runs: the pid exists with the same start time. */
export function processAlive(pid: number, pstart: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const ticks = procStartTicks(pid);
  return ticks === undefined || ticks === pstart;
}
