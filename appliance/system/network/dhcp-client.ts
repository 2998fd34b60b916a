import { readFile } from "node:fs/promises";
import { type CommandRunner, commandFailed } from "../command-runner.js";
import { SystemError } from "../errors.js";

/**
 * The DHCP client is dhcpcd (Debian package dhcpcd-base): Debian 13's ifupdown recommends it and
 * runs it for `inet dhcp`, and Debian 12 ships it too, so live and boot-time DHCP behave alike.
 */
const DHCPCD = "dhcpcd";

export interface DhcpOptions {
  /** Run the client inside this network namespace (`ip netns exec NS dhcpcd …`). */
  netns?: string;
  /** Seconds to wait for a lease; dhcpcd's own default is 30. */
  timeoutSeconds?: number;
}

export const DEFAULT_DHCP_TIMEOUT_SECONDS = 30;

/** A program run in the namespace when one is given, as an argument vector for the runner. */
function inNetns(netns: string | undefined, command: string, args: string[]): [string, string[]] {
  return netns === undefined ? [command, args] : ["ip", ["netns", "exec", netns, command, ...args]];
}

/** Refuses before anything changes when the client is not installed. */
export async function requireDhcpClient(runner: CommandRunner): Promise<void> {
  const result = await runner
    .run(DHCPCD, ["--version"], { allowFailure: true })
    .catch(() => undefined);
  if (result === undefined || result.exitCode !== 0) {
    throw new SystemError("unsupported", "DHCP needs dhcpcd (Debian package dhcpcd-base)", {
      command: DHCPCD,
    });
  }
}

/**
 * Starts dhcpcd for IPv4 on one interface and returns once it holds a lease (address and default
 * route configured). The client stays as a daemon because the kernel drops a leased address when
 * its lifetime ends, so someone has to renew it; `stopDhcp4` ends it. No lease within the timeout
 * is an `apply-failed` error naming the interface, and no client is left behind.
 */
export async function leaseDhcp4(
  runner: CommandRunner,
  iface: string,
  options: DhcpOptions = {},
): Promise<void> {
  const timeout = options.timeoutSeconds ?? DEFAULT_DHCP_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3600) {
    throw new SystemError("bad-input", `invalid DHCP timeout ${timeout}: must be 1-3600 seconds`, {
      field: "timeoutSeconds",
      value: String(timeout),
    });
  }
  const args = [
    "-4",
    "-w", // wait for the lease before going to the background
    "-t",
    String(timeout),
    "-L", // no 169.254 fallback, which would look like success
    // The hooks write the host's resolv.conf and NTP files, which a namespace must not touch.
    ...(options.netns === undefined ? [] : ["-c", "/bin/true"]),
    iface,
  ];
  const [command, argv] = inNetns(options.netns, DHCPCD, args);
  const result = await runner.run(command, argv, { allowFailure: true });
  if (result.exitCode !== 0) {
    await stopDhcp4(runner, iface, options).catch(() => {});
    const detail = (result.stderr.trim() || result.stdout.trim()).split("\n").at(-1) ?? "";
    throw new SystemError(
      "apply-failed",
      `${iface}: no DHCP lease within ${timeout} s${detail ? ` (${detail})` : ""}`,
      { interface: iface, command: [command, ...argv].join(" "), stderr: result.stderr },
    );
  }
}

/**
 * Stops the dhcpcd running for this interface, releasing its lease; nothing when none runs.
 * Covers a client started with `-4` (ours, Debian 13's ifupdown) and one for both families.
 */
export async function stopDhcp4(
  runner: CommandRunner,
  iface: string,
  options: DhcpOptions = {},
): Promise<void> {
  for (const family of [["-4"], []]) {
    if (!(await clientRunsHere(runner, iface, family, options.netns))) continue;
    const [command, argv] = inNetns(options.netns, DHCPCD, ["-k", ...family, iface]);
    const result = await runner.run(command, argv, { allowFailure: true });
    if (result.exitCode !== 0 && !/not running/.test(result.stderr)) {
      throw commandFailed(command, argv, result);
    }
  }
}

/** Whether a dhcpcd (for IPv4 or both families) already serves this interface here. */
export async function dhcp4Runs(
  runner: CommandRunner,
  iface: string,
  options: DhcpOptions = {},
): Promise<boolean> {
  for (const family of [["-4"], []]) {
    if (await clientRunsHere(runner, iface, family, options.netns)) return true;
  }
  return false;
}

/**
 * Whether a dhcpcd for this interface runs in this namespace. Pid files live in the shared /run,
 * so a client for a same-named interface in another namespace must not be stopped by mistake.
 */
async function clientRunsHere(
  runner: CommandRunner,
  iface: string,
  family: string[],
  netns: string | undefined,
): Promise<boolean> {
  const printed = await runner
    .run(DHCPCD, ["-P", ...family, iface], { allowFailure: true })
    .catch(() => undefined);
  const pidFile = printed?.exitCode === 0 ? printed.stdout.trim() : "";
  if (pidFile === "") return false;
  const pid = await readFile(pidFile, "utf8").then(
    (text) => text.trim(),
    () => "",
  );
  if (!/^[1-9][0-9]*$/.test(pid)) return false;
  const identified = await runner.run("ip", ["netns", "identify", pid], { allowFailure: true });
  // `ip netns identify` prints nothing for the host's own namespace.
  return identified.exitCode === 0 && identified.stdout.trim() === (netns ?? "");
}
