import { mkdtemp, readFile, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { CommandRunner } from "../../system/command-runner.js";
import { SetupError } from "../errors.js";
import { type AnswerSource, findLabelledDevice } from "./answer-source.js";

/** A USB stick plugged in with the installer may show up a few seconds after boot. */
const PARTITION_WAIT_MS = 20_000;

/** The answer file's text from where the boot menu said; a partition is mounted read-only briefly. */
export async function readAnswer(
  runner: CommandRunner,
  source: AnswerSource,
  waitMs = PARTITION_WAIT_MS,
): Promise<string> {
  if (source.kind === "file") return readFile(source.path, "utf8");
  const device = await waitForLabel(runner, source.label, waitMs);
  const dir = await mkdtemp(join(tmpdir(), "cairn-answer-"));
  try {
    await runner.run("mount", ["-o", "ro", device, dir]);
    try {
      return await readFile(join(dir, source.file), "utf8").catch(() => {
        throw new SetupError(
          "bad-answer-file",
          `${device} (${source.label}) has no ${source.file}`,
        );
      });
    } finally {
      await runner.run("umount", [dir], { allowFailure: true });
    }
  } finally {
    await rmdir(dir).catch(() => undefined);
  }
}

async function waitForLabel(runner: CommandRunner, label: string, waitMs: number): Promise<string> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { stdout } = await runner.run("lsblk", ["--json", "-o", "PATH,LABEL,FSTYPE"]);
    const device = findLabelledDevice(stdout, label);
    if (device) return device;
    if (Date.now() > deadline) {
      throw new SetupError("bad-answer-file", `no partition labelled ${label} was found`, {
        field: "cairn.answer",
      });
    }
    await sleep(1000);
  }
}
