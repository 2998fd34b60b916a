/**
 * A QEMU virtual machine for the image tests: software emulation unless KVM is usable, the first
 * serial port in a log file, the monitor on a Unix socket (to type keys and power off), user-mode
 * networking with one forwarded port. Waits poll the serial log and fail with its last 100 lines.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export type Firmware = "bios" | "uefi";

export interface QemuDisk {
  file: string;
  format: "raw" | "qcow2";
  /** Shown to the guest as the disk's serial number (lsblk SERIAL). */
  serial: string;
}

export interface QemuOptions {
  firmware: Firmware;
  /** UEFI variable store (a copy of OVMF's VARS file) that keeps boot entries between runs. */
  uefiVars?: string;
  /** Booted first when given. */
  cdrom?: string;
  /** virtio disks in this order: /dev/vda, /dev/vdb, ... in the guest. */
  disks: QemuDisk[];
  /** Host port on 127.0.0.1 forwarded to the guest's 8007. */
  port: number;
  serialLog: string;
  monitorSocket: string;
  /** Exit instead of rebooting (the installer's reboot ends the run). */
  noReboot?: boolean;
  memoryMiB?: number;
}

const OVMF_CODE = ["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd"];

/** OVMF's code file and the pristine variable store that goes with it. */
export function ovmfFiles(): { code: string; vars: string } {
  const code = OVMF_CODE.find((file) => existsSync(file));
  if (!code) throw new Error("UEFI needs OVMF: apt-get install ovmf");
  return { code, vars: code.replace("CODE", "VARS") };
}

/** Serial output as text: terminal control sequences and carriage returns removed. */
export function plainText(raw: string): string {
  return (
    raw
      // control sequences, character set selections, single-character escapes
      .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
      .replace(/\x1b[()][A-Z0-9]/g, "")
      .replace(/\x1b[=>78]/g, "")
      .replace(/\r/g, "")
  );
}

function kvmUsable(): boolean {
  try {
    accessSync("/dev/kvm", constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function qemuArguments(options: QemuOptions): string[] {
  const args = ["-machine", "q35", "-accel", kvmUsable() ? "kvm" : "tcg"];
  args.push("-m", String(options.memoryMiB ?? 2048), "-smp", "2");
  if (options.firmware === "uefi") {
    if (!options.uefiVars) throw new Error("a UEFI machine needs its variable store file");
    const { code } = ovmfFiles();
    args.push("-drive", `if=pflash,format=raw,readonly=on,file=${code}`);
    args.push("-drive", `if=pflash,format=raw,file=${options.uefiVars}`);
  }
  // fixed PCI slots, so the guest's names (enp0s3, vda…) do not depend on what else is attached
  args.push("-netdev", `user,id=net0,hostfwd=tcp:127.0.0.1:${options.port}-:8007`);
  args.push("-device", "virtio-net-pci,netdev=net0,addr=0x3");
  options.disks.forEach((disk, index) => {
    const id = `disk${index}`;
    args.push("-drive", `if=none,id=${id},file=${disk.file},format=${disk.format}`);
    const boot = options.cdrom ? "" : index === 0 ? ",bootindex=1" : "";
    const slot = (0x6 + index).toString(16);
    args.push("-device", `virtio-blk-pci,drive=${id},serial=${disk.serial},addr=0x${slot}${boot}`);
  });
  if (options.cdrom) {
    args.push("-drive", `if=none,id=cd0,file=${options.cdrom},media=cdrom,readonly=on`);
    args.push("-device", "ide-cd,drive=cd0,bus=ide.0,bootindex=0");
  }
  args.push("-display", "none", "-serial", `file:${options.serialLog}`);
  args.push("-monitor", `unix:${options.monitorSocket},server=on,wait=off`);
  if (options.noReboot) args.push("-no-reboot");
  return args;
}

export class QemuMachine {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  private constructor(
    readonly options: QemuOptions,
    child: ChildProcess,
  ) {
    this.#child = child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.#exited = new Promise((resolve) => {
      child.on("exit", (code) => {
        this.#exitCode = code;
        if (code !== 0 && stderr) process.stderr.write(`qemu: ${stderr}`);
        resolve(code);
      });
    });
  }

  static start(options: QemuOptions): QemuMachine {
    const child = spawn("qemu-system-x86_64", qemuArguments(options), {
      stdio: ["ignore", "ignore", "pipe"],
    });
    return new QemuMachine(options, child);
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** The serial log so far, as plain text. */
  serialText(): string {
    return existsSync(this.options.serialLog)
      ? plainText(readFileSync(this.options.serialLog, "latin1"))
      : "";
  }

  serialTail(lines = 100): string {
    return this.serialText().split("\n").slice(-lines).join("\n");
  }

  failure(message: string): Error {
    return new Error(`${message}\n--- last 100 lines of the serial log ---\n${this.serialTail()}`);
  }

  /**
   * Waits until the serial text after `from` (an offset into serialText) matches `pattern`;
   * fails when the machine stops first, when `refuse` matches, or after `timeoutMs`.
   */
  async waitForSerial(
    pattern: RegExp,
    what: string,
    timeoutMs: number,
    options: { from?: number; refuse?: RegExp } = {},
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.serialText().slice(options.from ?? 0);
      const found = text.match(pattern);
      if (found) return found;
      const refused = options.refuse && text.match(options.refuse);
      if (refused) throw this.failure(`while waiting for ${what}: ${refused[0]}`);
      if (!this.running) throw this.failure(`QEMU exited while waiting for ${what}`);
      if (Date.now() > deadline) throw this.failure(`no ${what} after ${timeoutMs / 1000} s`);
      await sleep(500);
    }
  }

  /** Polls `check` every 5 s until it returns a value; fails on timeout or when QEMU stops. */
  async waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check().catch(() => undefined);
      if (value !== undefined) return value;
      if (!this.running) throw this.failure(`QEMU exited while waiting for ${what}`);
      if (Date.now() > deadline) throw this.failure(`no ${what} after ${timeoutMs / 1000} s`);
      await sleep(5000);
    }
  }

  /** Waits for QEMU to exit by itself (a guest reboot with noReboot, or a power-off). */
  async waitForExit(what: string, timeoutMs: number): Promise<number | null> {
    // unref'd: a pending timer must not keep the test process alive once QEMU is gone
    const timer = sleep(timeoutMs, undefined, { ref: false }).then(() => "timeout" as const);
    const result = await Promise.race([this.#exited, timer]);
    if (result === "timeout") throw this.failure(`no ${what} after ${timeoutMs / 1000} s`);
    return result;
  }

  /** Runs QEMU monitor commands (`sendkey down`, `system_powerdown`, `quit`). */
  async monitor(commands: string[], pauseMs = 200): Promise<void> {
    const socket = createConnection(this.options.monitorSocket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    for (const command of commands) {
      socket.write(`${command}\n`);
      await sleep(pauseMs);
    }
    socket.end();
  }

  async sendKeys(keys: string[]): Promise<void> {
    await this.monitor(keys.map((key) => `sendkey ${key}`));
  }

  /** ACPI power-off, then a hard stop if the guest does not go within `graceMs`. */
  async powerOff(graceMs = 180_000): Promise<void> {
    if (!this.running) return;
    await this.monitor(["system_powerdown"]).catch(() => {});
    const grace = sleep(graceMs, undefined, { ref: false }).then(() => "timeout");
    const result = await Promise.race([this.#exited, grace]);
    if (result === "timeout") this.kill();
    await this.#exited;
  }

  kill(): void {
    if (this.running) this.#child.kill("SIGKILL");
  }
}
