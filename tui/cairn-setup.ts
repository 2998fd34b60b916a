#!/usr/bin/env node
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Option } from "commander";
import { render } from "ink";
import { createElement } from "react";
import { newProgram, runProgram } from "../appliance/cli/program.js";
import { planFromAnswerFile } from "../appliance/setup/answer-file.js";
import { type ApplyEvent, type ApplyOptions, applyPlan } from "../appliance/setup/apply.js";
import { consoleActions } from "../appliance/setup/console-actions.js";
import { consoleStatus } from "../appliance/setup/console-status.js";
import { detectEnvironment, factsOf } from "../appliance/setup/environment.js";
import { SetupError } from "../appliance/setup/errors.js";
import type { SetupPlan } from "../appliance/setup/plan.js";
import { SimulatedRunner } from "../appliance/setup/simulated-machine.js";
import { type CommandRunner, execaRunner } from "../appliance/system/command-runner.js";
import { Firstboot } from "./app.js";
import { FIRSTBOOT_LOCK, withConsoleLock } from "./console-lock.js";
import { glyphsFor } from "./glyphs.js";
import { addInstallCommand } from "./install-command.js";
import { Console } from "./screens/console.js";

interface CommonOptions {
  root: string;
  configDir: string;
  mountRoot?: string;
  netns?: string;
  diskTypes?: string;
  simulate?: string;
  log: string;
  ascii?: boolean;
  preallocate: boolean;
}

function runnerOf(options: CommonOptions): CommandRunner {
  return options.simulate ? SimulatedRunner.fromFile(options.simulate) : execaRunner;
}

/** Diagnostics go to the log file, never onto the screen being drawn; a broken log is ignored. */
function logger(path: string): (line: string) => Promise<void> {
  return async (line) => {
    await mkdir(dirname(path), { recursive: true }).catch(() => {});
    await appendFile(path, `${new Date().toISOString()} ${line}\n`).catch(() => {});
  };
}

function withoutSecrets(plan: SetupPlan): SetupPlan {
  return { ...plan, admin: { ...plan.admin, password: "(hidden)" } };
}

function applyOptions(options: CommonOptions, runner: CommandRunner): ApplyOptions {
  return {
    runner,
    root: options.root,
    configDir: options.configDir,
    ...(options.mountRoot ? { mountRoot: options.mountRoot } : {}),
    ...(options.netns ? { netns: options.netns } : {}),
    ...(options.diskTypes ? { diskTypes: options.diskTypes.split(",") } : {}),
    preallocate: options.preallocate,
  };
}

function describeEvent(event: ApplyEvent): string {
  switch (event.type) {
    case "step-start":
      return `... ${event.label}`;
    case "step-done":
      return `ok  ${event.step}: ${event.detail}`;
    case "step-failed":
      return `FAILED ${event.step}: ${event.error.message}`;
    case "finished":
      return `done: ${event.result.url} fingerprint ${event.result.fingerprint}`;
  }
}

async function unattended(file: string, options: CommonOptions & { check?: boolean }) {
  const log = logger(options.log);
  const runner = runnerOf(options);
  const env = await detectEnvironment(runner, {
    root: options.root,
    ...(options.netns ? { netns: options.netns } : {}),
    ...(options.diskTypes ? { diskTypes: options.diskTypes.split(",") } : {}),
  });
  const plan = planFromAnswerFile(await readFile(file, "utf8"), factsOf(env));
  await log(`plan ${JSON.stringify(withoutSecrets(plan))}`);
  if (options.check) {
    process.stdout.write(`${JSON.stringify(withoutSecrets(plan), null, 2)}\n`);
    return;
  }
  // below --root like every other file it writes, so tests on a scratch root do not meet
  const lock = {
    ...FIRSTBOOT_LOCK,
    lock: join(options.root, FIRSTBOOT_LOCK.lock),
    log: join(options.root, FIRSTBOOT_LOCK.log),
  };
  await mkdir(dirname(lock.lock), { recursive: true });
  await withConsoleLock(lock, async (progress, holdUntilReboot) => {
    for await (const event of applyPlan(plan, applyOptions(options, runner))) {
      await log(describeEvent(event));
      if (event.type === "step-start") continue;
      await progress(describeEvent(event));
      if (event.type === "finished") {
        await progress(`client: cairn backup root.pxar:/ --repository ${event.result.repository}`);
      }
      if (event.type === "step-failed") {
        // a failure after disks changed is for a person to look at, not for another console
        // to retry; a success releases the lock and both consoles go on to the menu
        holdUntilReboot();
        throw new SetupError(
          "step-failed",
          `setup stopped at ${event.step}: ${event.error.message}`,
        );
      }
    }
  });
}

async function interactive(options: CommonOptions) {
  const log = logger(options.log);
  const runner = runnerOf(options);
  const env = await detectEnvironment(runner, {
    root: options.root,
    ...(options.netns ? { netns: options.netns } : {}),
    ...(options.diskTypes ? { diskTypes: options.diskTypes.split(",") } : {}),
  });
  const base = applyOptions(options, runner);
  const glyphs = glyphsFor(options.ascii ? { CAIRN_ASCII: "1" } : process.env);
  const app = render(
    createElement(Firstboot, {
      env,
      glyphs,
      run: async function* (plan, from) {
        await log(`plan ${JSON.stringify(withoutSecrets(plan))}${from ? ` from ${from}` : ""}`);
        for await (const event of applyPlan(plan, { ...base, ...(from ? { from } : {}) })) {
          await log(describeEvent(event));
          yield event;
        }
      },
    }),
    { exitOnCtrlC: false },
  );
  await app.waitUntilExit();
}

function common(command: ReturnType<typeof newProgram>) {
  return command
    .option("--root <dir>", "system root the host files are written below", "/")
    .option("--config-dir <dir>", "the server's configuration directory", "/etc/cairn")
    .option("--mount-root <dir>", "where pools are mounted", "/mnt/datastore")
    .option("--netns <name>", "apply network changes inside this network namespace")
    .option("--log <file>", "diagnostics log", "/var/log/cairn/setup.log")
    .option("--ascii", "draw with ASCII characters only")
    .addOption(new Option("--disk-types <list>", "lsblk device types offered").hideHelp())
    .addOption(
      new Option("--simulate <machine.json>", "rehearse on a described machine").hideHelp(),
    )
    .addOption(new Option("--no-preallocate", "skip making chunk directories up front").hideHelp());
}

const program = newProgram("cairn-setup", "The Cairn appliance console: first-boot setup and menu");
common(program.command("firstboot"))
  .description("guided setup of a fresh appliance, or unattended with --answer")
  .option("--answer <file>", "apply this TOML answer file without asking")
  .option("--check", "with --answer: validate and print the plan, change nothing")
  .action(async (options: CommonOptions & { answer?: string; check?: boolean }) => {
    if (options.answer) await unattended(options.answer, options);
    else await interactive(options);
  });
common(program.command("console"))
  .description("status dashboard and menu of the configured appliance")
  .option("--state-dir <dir>", "the server's state directory (tasks)", "/var/lib/cairn")
  .action(async (options: CommonOptions & { stateDir: string }) => {
    const runner = runnerOf(options);
    const { root, configDir, stateDir } = options;
    const load = () => consoleStatus(runner, { root, configDir, stateDir });
    const actions = consoleActions(runner, {
      root,
      configDir,
      ...(options.netns ? { netns: options.netns } : {}),
      ...(options.diskTypes ? { diskTypes: options.diskTypes.split(",") } : {}),
    });
    const glyphs = glyphsFor(options.ascii ? { CAIRN_ASCII: "1" } : process.env);
    const app = render(createElement(Console, { load, actions, glyphs }), { exitOnCtrlC: false });
    await app.waitUntilExit();
  });
addInstallCommand(program);
await runProgram(program);
