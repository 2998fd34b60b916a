/**
 * `cairn-setup install`: the installer the live system's console starts. With an answer file
 * (--answer, or `cairn.answer=` on the kernel command line) it installs without a keyboard;
 * otherwise it runs the install screens. Both drive the one install engine.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { render } from "ink";
import { createElement } from "react";
import { SetupError } from "../appliance/setup/errors.js";
import { readAnswer } from "../appliance/setup/install/answer-reader.js";
import { answerSourceFromCmdline } from "../appliance/setup/install/answer-source.js";
import { installAnswerFromText } from "../appliance/setup/install/install-answer.js";
import {
  type InstallEvent,
  type InstallOptions,
  installSystem,
} from "../appliance/setup/install/install-engine.js";
import { type InstallFacts, withoutRootPassword } from "../appliance/setup/install/install-plan.js";
import { type CommandRunner, execaRunner } from "../appliance/system/command-runner.js";
import { Disks } from "../appliance/system/disks/disks.js";
import { liveInterfaces } from "../appliance/system/network/apply.js";
import { INSTALL_LOCK, type ProgressWriter, withConsoleLock } from "./console-lock.js";
import { glyphsFor } from "./glyphs.js";
import { Installer } from "./screens/install-app.js";

/** live-boot mounts the image's pristine root here; copying it leaves the live session's changes behind. */
const LIVE_ROOT = "/run/live/rootfs/filesystem.squashfs";

interface InstallCliOptions {
  answer?: string;
  check?: boolean;
  source?: string;
  target: string;
  cmdline: string;
  reboot: boolean;
  diskTypes?: string;
  ascii?: boolean;
}

async function installFacts(
  runner: CommandRunner,
  source: string,
  diskTypes?: string,
): Promise<InstallFacts> {
  const disks = await new Disks(runner).list(diskTypes ? { types: diskTypes.split(",") } : {});
  const interfaces = (await liveInterfaces(runner).catch(() => []))
    .filter((iface) => iface.name !== "lo")
    .map((iface) => iface.name);
  return {
    disks,
    interfaces,
    timezoneExists: (zone) => existsSync(join(source, "usr/share/zoneinfo", zone)),
  };
}

export function describeInstallEvent(event: InstallEvent): string {
  switch (event.type) {
    case "step-start":
      return `... ${event.label}`;
    case "step-done":
      return `ok  ${event.step}: ${event.detail}`;
    case "step-skipped":
      return `--  ${event.step}: skipped`;
    case "step-failed":
      return `FAILED ${event.step}: ${event.error.message}`;
    case "finished":
      return `installed on ${event.result.disk} (root UUID ${event.result.rootUuid})`;
  }
}

async function answerText(options: InstallCliOptions, runner: CommandRunner) {
  if (options.answer) return readFile(options.answer, "utf8");
  const cmdline = await readFile(options.cmdline, "utf8").catch(() => "");
  const source = answerSourceFromCmdline(cmdline);
  return source ? readAnswer(runner, source) : undefined;
}

async function reboot(runner: CommandRunner): Promise<void> {
  await runner.run("systemctl", ["reboot"]);
}

async function unattended(
  text: string,
  options: InstallCliOptions,
  runner: CommandRunner,
  progress: ProgressWriter,
  holdUntilReboot: () => void,
) {
  const source = options.source ?? (existsSync(LIVE_ROOT) ? LIVE_ROOT : "/");
  const facts = await installFacts(runner, source, options.diskTypes);
  const answer = installAnswerFromText(text, facts);
  const shown = JSON.stringify(withoutRootPassword(answer.install), null, 2);
  await progress(`install plan:\n${shown}`);
  if (options.check) return;
  const engine: InstallOptions = {
    runner,
    source,
    target: options.target,
    facts,
    firstbootAnswer: answer.firstbootText,
  };
  // from here on disks change: no other console may start an install until the machine restarts
  holdUntilReboot();
  for await (const event of installSystem(answer.install, engine)) {
    if (event.type === "step-start") continue;
    await progress(describeInstallEvent(event));
    if (event.type === "step-failed") {
      throw new SetupError(
        "step-failed",
        `install stopped at ${event.step}: ${event.error.message}`,
      );
    }
  }
  if (options.reboot) {
    await progress("rebooting into first-boot setup");
    await reboot(runner);
  }
}

async function interactive(options: InstallCliOptions, runner: CommandRunner) {
  const source = options.source ?? (existsSync(LIVE_ROOT) ? LIVE_ROOT : "/");
  const facts = await installFacts(runner, source, options.diskTypes);
  const disks = await new Disks(runner).list(
    options.diskTypes ? { types: options.diskTypes.split(",") } : {},
  );
  const interfaces = await liveInterfaces(runner).catch(() => []);
  const glyphs = glyphsFor(options.ascii ? { CAIRN_ASCII: "1" } : process.env);
  const app = render(
    createElement(Installer, {
      disks,
      interfaces: interfaces.filter((iface) => iface.name !== "lo"),
      facts,
      glyphs,
      run: (plan) => installSystem(plan, { runner, source, target: options.target, facts }),
      ...(options.reboot ? { onReboot: () => reboot(runner) } : {}),
    }),
    { exitOnCtrlC: false },
  );
  await app.waitUntilExit();
}

/** Adds the `install` command to cairn-setup's program. */
export function addInstallCommand(program: Command): void {
  program
    .command("install")
    .description("install the appliance onto a system disk (from the live system)")
    .option("--answer <file>", "install unattended from this TOML answer file")
    .option("--check", "with an answer file: validate and print the install plan, change nothing")
    .option("--source <dir>", "the root file system to copy (default: the live image's root)")
    .option("--target <dir>", "where the new root is mounted while installing", "/mnt/cairn-target")
    .option("--cmdline <file>", "kernel command line naming an answer source", "/proc/cmdline")
    .option("--no-reboot", "stay in the live system after installing")
    .option("--disk-types <list>", "lsblk device types offered")
    .option("--ascii", "draw with ASCII characters only")
    .action(async (options: InstallCliOptions) => {
      const runner = execaRunner;
      await withConsoleLock(INSTALL_LOCK, async (progress, holdUntilReboot) => {
        const text = await answerText(options, runner);
        if (text !== undefined) await unattended(text, options, runner, progress, holdUntilReboot);
        else await interactive(options, runner);
      });
    });
}
