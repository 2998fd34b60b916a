import { spawn } from "node:child_process";
import { join } from "node:path";
import test from "ava";
import { REPO_ROOT } from "../helpers/cli.js";

// boots the ISO under QEMU: minutes to tens of minutes, so only on request (npm run test:iso)
const enabled = process.env.CAIRN_ISO_TEST === "1";
const isoTest = enabled ? test : test.skip;
if (!enabled) console.log("test/iso: npm run test:iso (as root) builds the ISO and boots it");

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

isoTest("the ISO boots to the first-boot console and the HTTPS port", async (t) => {
  t.timeout(60 * 60_000);
  // built by iso-build/test-iso.sh (npm run test:iso) before the tests run
  const boot = await runScript(join(REPO_ROOT, "iso-build", "boot-test.sh"));
  t.is(boot.status, 0, boot.output.slice(-8000));
  t.regex(boot.output, /boot test passed/);
});
