import { spawn } from "node:child_process";
import { join } from "node:path";
import test from "ava";
import { REPO_ROOT } from "../helpers/cli.js";

// builds the ISO and boots it under QEMU: tens of minutes, so only on request
const enabled = process.env.CAIRN_ISO_TEST === "1";
const isoTest = enabled ? test : test.skip;
if (!enabled) console.log("test/iso: set CAIRN_ISO_TEST=1 (as root) to build and boot the ISO");

/** Runs a script, echoing its output, and resolves with its exit status and output. */
function runScript(path: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ status: number | null; output: string }>((resolve) => {
    const child = spawn("bash", [path], { env: { ...process.env, ...env } });
    let output = "";
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("close", (status) => resolve({ status, output }));
  });
}

isoTest("the ISO builds and boots to the first-boot console and the HTTPS port", async (t) => {
  t.timeout(90 * 60_000);
  const build = await runScript(join(REPO_ROOT, "iso-build", "build-iso.sh"));
  t.is(build.status, 0, build.output.slice(-4000));
  t.regex(build.output, /cairn-[0-9.]+\.iso: \S+ \(\d+ bytes\)/);
  const boot = await runScript(join(REPO_ROOT, "iso-build", "boot-test.sh"));
  t.is(boot.status, 0, boot.output.slice(-8000));
  t.regex(boot.output, /boot test passed/);
});
