import { type ChildProcess, spawn } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { colonHex } from "../../appliance/server/tls/certificate-info.js";
import { api } from "./helpers/client.js";

const CLI = fileURLToPath(new URL("../../appliance/cli/cairn-server.ts", import.meta.url));
/** tsx by its location, so the daemon can run from any working directory. */
const TSX = import.meta.resolve("tsx");

interface Daemon {
  child: ChildProcess;
  port: number;
  banner: string[];
  stdout: () => string;
  exited: Promise<number | null>;
}

/** Starts cairn-server and waits for the line that says where it listens. */
function startDaemon(args: string[], cwd: string): Promise<Daemon> {
  const child = spawn(
    process.execPath,
    ["--import", TSX, CLI, "--host", "127.0.0.1", "--port", "0", ...args],
    {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const banner: string[] = [];
  let out = "";
  child.stdout!.on("data", (chunk) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    let pending = "";
    const timer = setTimeout(() => reject(new Error(`no banner: ${banner.join("\n")}`)), 60_000);
    child.stderr!.on("data", (chunk) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      banner.push(...lines);
      const listening = banner
        .map((line) => /^listening on https:\/\/[^:]+:(\d+)\/$/.exec(line))
        .find(Boolean);
      const done = args.includes("--embedded")
        ? banner.some((line) => line.startsWith("repository:"))
        : true;
      if (listening && done) {
        clearTimeout(timer);
        resolve({ child, port: Number(listening[1]), banner, stdout: () => out, exited });
      }
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${banner.join("\n")}`)));
  });
}

async function tempDir(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "cairn-daemon-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("the daemon prints the fingerprint of its certificate and stops cleanly on SIGTERM", async (t) => {
  const dir = await tempDir(t);
  const daemon = await startDaemon(
    ["--config-dir", join(dir, "etc"), "--state-dir", join(dir, "lib")],
    dir,
  );
  t.teardown(() => daemon.child.kill("SIGKILL"));
  const printed =
    /^fingerprint: (\S+)$/.exec(
      daemon.banner.find((line) => line.startsWith("fingerprint:")) ?? "",
    )?.[1] ?? "none";
  const pem = await readFile(join(dir, "etc", "proxy.pem"), "utf8");
  t.is(printed, colonHex(createHash("sha256").update(new X509Certificate(pem).raw).digest()));
  t.true(daemon.banner.includes("created a self-signed TLS certificate"));
  const ping = await api(daemon.port, "GET", "/api2/json/ping");
  t.is(ping.status, 200);
  t.is(ping.fingerprint, printed);

  daemon.child.kill("SIGTERM");
  t.is(await daemon.exited, 0);
  const logs = daemon
    .stdout()
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { msg: string });
  t.deepEqual(
    logs.slice(-3).map((line) => line.msg),
    ["signal received", "shutting down", "stopped"],
  );
});

test("the embedded mode sets up store1 and a superuser password once", async (t) => {
  const dir = await tempDir(t);
  const first = await startDaemon(["--embedded"], dir);
  t.teardown(() => first.child.kill("SIGKILL"));
  const credentials = first.banner.find((line) => line.startsWith("user root@pam, password "));
  t.truthy(credentials, first.banner.join("\n"));
  const password = /password (\S+) /.exec(credentials!)![1]!;
  t.true(
    first.banner.some(
      (line) => line === `created datastore store1 in ${join(dir, "cairn-data", "store1")}`,
    ),
  );

  const login = await api(first.port, "POST", "/api2/json/access/ticket", {
    body: { username: "root@pam", password },
  });
  t.is(login.status, 200, login.body.toString());
  const cookie = { cookie: `PBSAuthCookie=${encodeURIComponent(login.json.data.ticket)}` };
  const stores = await api(first.port, "GET", "/api2/json/admin/datastore", { headers: cookie });
  t.deepEqual(stores.json.data, [{ store: "store1", comment: "created by the embedded mode" }]);
  first.child.kill("SIGTERM");
  t.is(await first.exited, 0);

  const second = await startDaemon(["--embedded"], dir);
  t.teardown(() => second.child.kill("SIGKILL"));
  t.false(second.banner.some((line) => line.includes("password")));
  t.false(second.banner.some((line) => line.startsWith("created")));
  second.child.kill("SIGTERM");
  t.is(await second.exited, 0);
});
