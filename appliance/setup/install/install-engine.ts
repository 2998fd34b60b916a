/**
 * The install engine: puts a validated install plan onto the system disk step by step and reports
 * each step as an event, like the first-boot apply engine. The screens, the answer-file mode and
 * the tests all drive this one function.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { updateUser } from "../../server/auth/accounts.js";
import { AuthConfig } from "../../server/auth/auth-config.js";
import { SUPERUSER_ID } from "../../server/auth/auth-id.js";
import type { CommandRunner } from "../../system/command-runner.js";
import { Disks } from "../../system/disks/disks.js";
import {
  writeAtomic,
  writeDns,
  writeHostname,
  writeTimezone,
} from "../../system/network/host-files.js";
import { NetworkConfigFiles } from "../../system/network/network-config.js";
import { SetupError } from "../errors.js";
import { staticAddress } from "../plan.js";
import { type DiskLayout, diskLayout, mkfsCommands, sgdiskArgs } from "./disk-layout.js";
import {
  bindMountCommands,
  type Command,
  copyCommand,
  grubBiosCommands,
  grubConfigCommands,
  grubEfiCommands,
  KEPT_EMPTY,
  mountEspCommands,
  mountRootCommands,
  unmountCommand,
} from "./install-commands.js";
import { interfaceConfigOf } from "./install-network.js";
import { type InstallFacts, type InstallPlan, validateInstallPlan } from "./install-plan.js";
import { mountsBelow, waitForBlockDevices } from "./mount-table.js";
import {
  chpasswdLine,
  renderBaseHosts,
  renderFstab,
  renderGrubDefaults,
  renderKeyboard,
} from "./target-files.js";

export const INSTALL_STEPS = [
  { id: "partition", label: "Partitions (GPT: BIOS boot, EFI, root)" },
  { id: "filesystems", label: "File systems" },
  { id: "mount", label: "Mount the new root" },
  { id: "copy", label: "Copy the system" },
  { id: "configure", label: "fstab, host name, network, zone, keyboard" },
  { id: "root-password", label: "Root password and e-mail" },
  { id: "grub-bios", label: "GRUB for BIOS" },
  { id: "grub-efi", label: "GRUB for UEFI (EFI system partition)" },
  { id: "grub-config", label: "Boot menu (update-grub)" },
  { id: "unmount", label: "Unmount" },
] as const;

export type InstallStepId = (typeof INSTALL_STEPS)[number]["id"];

/** Where the answer file waits for first-boot setup on the installed system. */
export const FIRSTBOOT_ANSWER_PATH = "var/lib/cairn/firstboot-answer.toml";
export const SETUP_MARKER_PATH = "var/lib/cairn/setup-complete";

export interface InstallOptions {
  runner: CommandRunner;
  /** The root file system to copy: the live image's squashfs mount, or "/". */
  source: string;
  /** An empty directory the new root is mounted on while installing. */
  target: string;
  /** Checked against before any command runs. */
  facts?: InstallFacts;
  /** Steps not run (tests on machines without GRUB); "unmount" always runs. */
  skip?: readonly InstallStepId[];
  /** An answer file first-boot setup on the installed system applies without asking. */
  firstbootAnswer?: string;
  /** How long to wait for the kernel to show the new partitions; default 15 s. */
  partitionWaitMs?: number;
}

export interface InstallResult {
  disk: string;
  rootUuid: string;
  espUuid: string;
}

export type InstallEvent =
  | { type: "step-start"; step: InstallStepId; label: string }
  | { type: "step-done"; step: InstallStepId; detail: string }
  | { type: "step-skipped"; step: InstallStepId; label: string }
  | { type: "step-failed"; step: InstallStepId; error: Error }
  | { type: "finished"; result: InstallResult };

interface Context {
  plan: InstallPlan;
  options: InstallOptions;
  layout: DiskLayout;
  target: string;
  uuids?: { root: string; esp: string };
}

/**
 * Validates the plan (a refused plan throws before any command runs), then runs every step in
 * order. The first failure yields `step-failed` with the command's error and ends the run after
 * unmounting whatever the install had mounted below the target.
 */
export async function* installSystem(
  value: InstallPlan,
  options: InstallOptions,
): AsyncGenerator<InstallEvent, void, undefined> {
  const plan = validateInstallPlan(value, options.facts);
  const context: Context = {
    plan,
    options,
    layout: diskLayout(plan.disk, plan.filesystem),
    target: checkTarget(options),
  };
  for (const step of INSTALL_STEPS) {
    if (step.id !== "unmount" && options.skip?.includes(step.id)) {
      yield { type: "step-skipped", step: step.id, label: step.label };
      continue;
    }
    yield { type: "step-start", step: step.id, label: step.label };
    let detail: string;
    try {
      detail = await RUN[step.id](context);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (step.id !== "unmount") await unmountQuietly(context);
      yield { type: "step-failed", step: step.id, error };
      return;
    }
    yield { type: "step-done", step: step.id, detail };
  }
  yield {
    type: "finished",
    result: {
      disk: plan.disk,
      rootUuid: context.uuids?.root ?? "",
      espUuid: context.uuids?.esp ?? "",
    },
  };
}

function checkTarget(options: InstallOptions): string {
  const target = resolve(options.target);
  if (target === "/" || target === resolve(options.source)) {
    throw new SetupError("bad-plan", `target ${options.target} must be an empty directory`, {
      field: "target",
    });
  }
  return target;
}

const RUN: Record<InstallStepId, (context: Context) => Promise<string>> = {
  partition,
  filesystems,
  mount,
  copy,
  configure,
  "root-password": rootPassword,
  "grub-bios": grubBios,
  "grub-efi": grubEfi,
  "grub-config": grubConfig,
  unmount,
};

async function runAll(runner: CommandRunner, commands: readonly Command[]): Promise<void> {
  for (const { command, args } of commands) await runner.run(command, args);
}

async function partition({ options, layout }: Context): Promise<string> {
  const { runner } = options;
  // Refuses a disk that became mounted, the system disk, or a member of an imported pool.
  await new Disks(runner).wipe(layout.disk);
  await runner.run("sgdisk", sgdiskArgs(layout.disk));
  // Loop devices and some controllers need telling; udev may be absent (containers).
  await runner.run("partx", ["-u", layout.disk], { allowFailure: true });
  await runner.run("udevadm", ["settle"], { allowFailure: true }).catch(() => undefined);
  await waitForBlockDevices([layout.biosBoot, layout.esp, layout.root], options.partitionWaitMs);
  return `${layout.biosBoot} BIOS boot, ${layout.esp} EFI, ${layout.root} root`;
}

async function filesystems({ options, layout }: Context): Promise<string> {
  await runAll(options.runner, mkfsCommands(layout));
  return `vfat on ${layout.esp}, ${layout.filesystem} on ${layout.root}`;
}

async function mount({ options, layout, target }: Context): Promise<string> {
  await mkdir(target, { recursive: true });
  if ((await mountsBelow(target)).length > 0) {
    throw new SetupError("step-failed", `${target} already has something mounted on it`);
  }
  await runAll(options.runner, mountRootCommands(layout, target));
  return `${layout.root} on ${target}`;
}

async function copy({ options, target }: Context): Promise<string> {
  const { command, args } = copyCommand(options.source, target);
  await options.runner.run(command, args);
  return `${options.source} copied`;
}

async function configure(context: Context): Promise<string> {
  const { options, layout, target, plan } = context;
  const { runner } = options;
  const uuidOf = async (device: string) =>
    (await runner.run("blkid", ["-s", "UUID", "-o", "value", device])).stdout.trim();
  context.uuids = { root: await uuidOf(layout.root), esp: await uuidOf(layout.esp) };
  if (!context.uuids.root || !context.uuids.esp) {
    throw new SetupError("step-failed", `blkid found no UUID on ${layout.root} or ${layout.esp}`);
  }
  await writeAtomic(join(target, "etc/fstab"), renderFstab(plan.filesystem, context.uuids));
  for (const dir of KEPT_EMPTY) await mkdir(join(target, dir), { recursive: true });
  await chmod(join(target, "tmp"), 0o1777);
  await chmod(join(target, "var/tmp"), 0o1777);
  // Empty: systemd makes a new machine id on the first boot, so no two installs share one.
  await writeAtomic(join(target, "etc/machine-id"), "");

  const network = new NetworkConfigFiles(target);
  await network.stage(interfaceConfigOf(plan.network));
  await network.commit();
  await rm(`${network.path}.old`, { force: true });
  await writeAtomic(join(target, "etc/hosts"), renderBaseHosts());
  await writeHostname(target, plan.network.fqdn, staticAddress(plan.network) ?? "127.0.1.1");
  const [dns1, dns2, dns3] = plan.network.dns;
  const search = plan.network.fqdn.split(".").slice(1).join(".");
  await writeDns(target, { search, dns1, dns2, dns3 });
  await writeTimezone(target, plan.timezone);
  await writeAtomic(join(target, "etc/default/keyboard"), renderKeyboard(plan.keymap));
  await writeAtomic(join(target, "etc/default/grub.d/cairn.cfg"), renderGrubDefaults());

  await rm(join(target, SETUP_MARKER_PATH), { force: true });
  if (options.firstbootAnswer !== undefined) {
    const path = join(target, FIRSTBOOT_ANSWER_PATH);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, options.firstbootAnswer, { mode: 0o600 });
  }
  return `root UUID ${context.uuids.root}, ${plan.network.fqdn}, ${plan.timezone}, ${plan.keymap}`;
}

/** SHA-512 crypt by `openssl passwd -6`, set by `chpasswd -e -R`; the password is never an argument. */
async function rootPassword({ options, plan, target }: Context): Promise<string> {
  const { runner } = options;
  const hashed = await runner.run("openssl", ["passwd", "-6", "-stdin"], {
    input: `${plan.rootPassword}\n`,
  });
  const hash = hashed.stdout.trim();
  if (!hash.startsWith("$6$")) {
    throw new SetupError("step-failed", "openssl passwd -6 printed no SHA-512 crypt hash");
  }
  await runner.run("chpasswd", ["-e", "-R", target], { input: chpasswdLine("root", hash) });
  const access = await AuthConfig.open(join(target, "etc/cairn"));
  await updateUser(access, SUPERUSER_ID, { email: plan.email });
  return `root password set, ${SUPERUSER_ID} mail to ${plan.email}`;
}

async function grubBios({ options, layout, target }: Context): Promise<string> {
  await runAll(options.runner, grubBiosCommands(layout, target));
  return `i386-pc core image in ${layout.biosBoot}`;
}

async function grubEfi({ options, layout, target }: Context): Promise<string> {
  await mkdir(join(target, "boot/efi"), { recursive: true });
  await runAll(options.runner, mountEspCommands(layout, target));
  await runAll(options.runner, grubEfiCommands(target));
  return `x86_64-efi at EFI/BOOT/BOOTX64.EFI on ${layout.esp}`;
}

async function grubConfig({ options, target }: Context): Promise<string> {
  await runAll(options.runner, bindMountCommands(target));
  await runAll(options.runner, grubConfigCommands(target));
  return "boot/grub/grub.cfg written";
}

async function unmount({ options, target }: Context): Promise<string> {
  const { command, args } = unmountCommand(target);
  await options.runner.run(command, args);
  const left = await mountsBelow(target);
  if (left.length > 0) {
    throw new SetupError("step-failed", `still mounted: ${left.join(", ")}`);
  }
  await options.runner.run("sync", []);
  return `${target} unmounted`;
}

/** After a failure: unmount what the install mounted, so the disk can be tried again. */
async function unmountQuietly({ options, target }: Context): Promise<void> {
  if ((await mountsBelow(target).catch(() => [])).length === 0) return;
  const { command, args } = unmountCommand(target);
  await options.runner.run(command, args, { allowFailure: true }).catch(() => undefined);
}
