import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test, { type ExecutionContext } from "ava";
import { AccessControl } from "../../appliance/server/auth/access-control.js";
import { createToken, createUser } from "../../appliance/server/auth/accounts.js";
import { changeAcl } from "../../appliance/server/auth/acl-admin.js";
import type { RoleName } from "../../appliance/server/auth/privileges.js";
import { silentLogger } from "../../appliance/server/logger.js";
import { forwardingSystemRoutes } from "../../appliance/server/privileged/forwarding-routes.js";
import { PrivilegedService } from "../../appliance/server/privileged/privileged-service.js";
import { accessRoutes } from "../../appliance/server/routes/access.js";
import { fixture, RecordingRunner } from "../system/helpers.js";
import { CHEAP_COST } from "./auth/fixtures.js";
import { captureLogger } from "./helpers/capture-logger.js";
import { api } from "./helpers/client.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

/** A public server forwarding to a privileged service, sharing one config and state directory. */
interface Split {
  root: string;
  socket: string;
  runner: RecordingRunner;
  privileged: PrivilegedService;
  /** Requests the privileged service logged. */
  reached: () => Record<string, unknown>[];
  server: TestServer;
  /** Authorization headers of API tokens: admin (Admin on /system) and auditor (Audit). */
  admin: Record<string, string>;
  auditor: Record<string, string>;
}

const DISKS = "/api2/json/nodes/localhost/disks";

/** A pbs user with a token, both granted `role` on /system. */
async function account(access: AccessControl, userid: string, role: RoleName) {
  await createUser(access.config, userid, {}, "password1", CHEAP_COST);
  const token = await createToken(access.config, userid, "ops", {});
  for (const authId of [userid, token.tokenid]) {
    await changeAcl(access.config, {
      path: "/system",
      authId,
      role,
      propagate: true,
      delete: false,
    });
  }
  return { authorization: `PBSAPIToken=${token.tokenid}:${token.value}` };
}

function answers(command: string): { stdout?: string; exitCode?: number } {
  if (command === "lsblk") return { stdout: fixture("lsblk-server.json") };
  if (command === "zpool" || command === "blkid") return { exitCode: 1 };
  return {};
}

async function startSplit(t: ExecutionContext): Promise<Split> {
  const root = await mkdtemp(join(tmpdir(), "cairn-split-"));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const configDir = join(root, "config");
  const stateDir = join(root, "state");
  await mkdir(stateDir, { mode: 0o700 });
  await mkdir(join(root, "sysroot", "etc"), { recursive: true });
  // two AccessControl objects over one directory, as two processes have
  const publicAccess = await AccessControl.open(configDir, { passwordCost: CHEAP_COST });
  const admin = await account(publicAccess, "admin@pbs", "Admin");
  const auditor = await account(publicAccess, "auditor@pbs", "Audit");
  const socket = join(root, "privileged.sock");
  const runner = new RecordingRunner(answers);
  const capture = captureLogger();
  const privileged = await PrivilegedService.start({
    socketPath: socket,
    configDir,
    stateDir,
    access: await AccessControl.open(configDir),
    logger: capture.logger,
    runner,
    nodeName: "testnode",
    system: { root: join(root, "sysroot") },
  });
  t.teardown(() => privileged.close(1000));
  const server = await startTestServer({
    root,
    access: publicAccess,
    extraRoutes: () => accessRoutes(publicAccess),
    systemRoutes: (services) => forwardingSystemRoutes(services, socket),
  });
  t.teardown(() => server.stop());
  const reached = () => capture.lines().filter((line) => line.msg === "api request");
  return { root, socket, runner, privileged, reached, server, admin, auditor };
}

/** One plain HTTP request on the privileged socket, as any local process could send it. */
function direct(
  socket: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests navigate answers freely and assert on them
): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath: socket, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          json: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        }),
      );
    });
    request.on("error", reject);
    request.end();
  });
}

test("an admin lists disks through the public daemon; lsblk runs in the privileged service", async (t) => {
  const split = await startSplit(t);
  const { server, admin, runner } = split;
  const answer = await api(server.port, "GET", `${DISKS}/list`, { headers: admin });
  t.is(answer.status, 200, answer.body.toString());
  t.regex(String(answer.headers["content-type"]), /^application\/json/);
  const paths = (answer.json.data as { path: string; used: string }[]).map((disk) => disk.path);
  t.deepEqual(paths, [
    "/dev/nvme0n1",
    "/dev/sda",
    "/dev/sdb",
    "/dev/sdc",
    "/dev/sdd",
    "/dev/sde",
    "/dev/sdf",
  ]);
  t.is(runner.of("lsblk").length, 1);
  t.like(split.reached()[0], { path: `${DISKS}/list`, status: 200, auth: "admin@pbs!ops" });
});

test("a change runs as a task of the privileged service, visible through the public daemon", async (t) => {
  const split = await startSplit(t);
  const { server, admin, runner, privileged } = split;
  const answer = await api(server.port, "PUT", `${DISKS}/wipedisk`, {
    headers: admin,
    body: { disk: "sdb" },
  });
  t.is(answer.status, 200, answer.body.toString());
  const upid = answer.json.data as string;
  t.regex(upid, /^UPID:testnode:.*:wipedisk:sdb:admin@pbs!ops:$/);
  await privileged.tasks.wait(upid);
  t.deepEqual(runner.of("wipefs"), [["wipefs", "-a", "/dev/sdb"]]);
  const tasks = `/api2/json/nodes/localhost/tasks/${encodeURIComponent(upid)}`;
  const status = await api(server.port, "GET", `${tasks}/status`, { headers: admin });
  t.like(status.json.data, { status: "stopped", exitstatus: "OK", type: "wipedisk" });
  const log = await api(server.port, "GET", `${tasks}/log`, { headers: admin });
  const lines = (log.json.data as { t: string }[]).map((line) => line.t);
  t.true(
    lines.some((line) => line.endsWith("wiping /dev/sdb")),
    lines.join("\n"),
  );
});

/** Whether a task log has `message` as one of its lines (after the time stamp). */
function logged(lines: string[], message: string): boolean {
  return lines.some((line) => line.endsWith(`: ${message}`));
}

/** The public daemon's finished tasks of `type`, newest first, with their logs. */
async function finishedTasks(split: Split, type: string) {
  const { server, admin } = split;
  const listed = await api(
    server.port,
    "GET",
    `/api2/json/nodes/localhost/tasks?typefilter=${type}`,
    {
      headers: admin,
    },
  );
  const tasks = listed.json.data as { upid: string; user: string; status?: string }[];
  return Promise.all(
    tasks.map(async (task) => {
      const path = `/api2/json/nodes/localhost/tasks/${encodeURIComponent(task.upid)}/log`;
      const log = await api(server.port, "GET", path, { headers: admin });
      return { ...task, log: (log.json.data as { t: string }[]).map((line) => line.t) };
    }),
  );
}

test("DNS, interface, revert and time zone changes are logged as finished tasks of the caller", async (t) => {
  const split = await startSplit(t);
  const { server, admin, root } = split;
  const node = "/api2/json/nodes/localhost";
  const dns = await api(server.port, "PUT", `${node}/dns`, {
    headers: admin,
    body: { search: "example.test", dns1: "192.0.2.53", dns2: "192.0.2.54" },
  });
  t.is(dns.status, 200, dns.body.toString());
  t.is(dns.json.data, null);
  const [dnsTask, ...moreDns] = await finishedTasks(split, "dnsupdate");
  t.is(moreDns.length, 0);
  t.like(dnsTask, { user: "admin@pbs!ops", status: "OK" });
  t.true(
    logged(dnsTask!.log, "writing DNS: search example.test, name servers 192.0.2.53 192.0.2.54"),
    dnsTask!.log.join("\n"),
  );
  t.regex(
    await readFile(join(root, "sysroot", "etc", "resolv.conf"), "utf8"),
    /^nameserver 192\.0\.2\.54$/m,
  );

  const staged = await api(server.port, "PUT", `${node}/network/eth1`, {
    headers: admin,
    body: { cidr: "192.0.2.10/24", gateway: "192.0.2.1", autostart: true },
  });
  t.is(staged.status, 200, staged.body.toString());
  t.is(staged.json.data, null);
  const removed = await api(server.port, "DELETE", `${node}/network/eth1`, { headers: admin });
  t.is(removed.status, 200, removed.body.toString());
  const [removal, change, ...moreStaged] = await finishedTasks(split, "netstage");
  t.is(moreStaged.length, 0);
  t.like(change, { user: "admin@pbs!ops", status: "OK" });
  t.regex(change!.upid, /:netstage:eth1:admin@pbs!ops:$/);
  t.true(
    logged(
      change!.log,
      "staging eth1: autostart=true method4=static cidr4=192.0.2.10/24 gateway4=192.0.2.1",
    ),
    change!.log.join("\n"),
  );
  t.like(removal, { user: "admin@pbs!ops", status: "OK" });
  t.true(logged(removal!.log, "staging the removal of eth1"), removal!.log.join("\n"));

  const reverted = await api(server.port, "DELETE", `${node}/network`, { headers: admin });
  t.is(reverted.status, 200, reverted.body.toString());
  const [revert] = await finishedTasks(split, "netrevert");
  t.like(revert, { user: "admin@pbs!ops", status: "OK" });
  t.true(logged(revert!.log, "reverting the staged network changes"), revert!.log.join("\n"));

  await mkdir(join(root, "sysroot", "usr", "share", "zoneinfo", "Europe"), { recursive: true });
  await writeFile(join(root, "sysroot", "usr", "share", "zoneinfo", "Europe", "Vienna"), "TZif");
  const zone = await api(server.port, "PUT", `${node}/time`, {
    headers: admin,
    body: { timezone: "Europe/Vienna" },
  });
  t.is(zone.status, 200, zone.body.toString());
  const [timezone] = await finishedTasks(split, "timezone");
  t.like(timezone, { user: "admin@pbs!ops", status: "OK" });
  t.true(logged(timezone!.log, "setting the time zone to Europe/Vienna"), timezone!.log.join("\n"));

  // a refused change is answered with its own error and still leaves a failed task behind
  const missing = await api(server.port, "DELETE", `${node}/network/eth7`, { headers: admin });
  t.is(missing.status, 404);
  t.is(missing.json.message, "interface eth7 is not configured");
  const [failed] = await finishedTasks(split, "netstage");
  t.regex(failed!.upid, /:netstage:eth7:/);
  t.is(failed!.status, "interface eth7 is not configured");
});

test("a ticket and its CSRF token are forwarded and checked again", async (t) => {
  const split = await startSplit(t);
  const { server, root } = split;
  const login = await api(server.port, "POST", "/api2/json/access/ticket", {
    body: { username: "admin@pbs", password: "password1" },
  });
  t.is(login.status, 200, login.body.toString());
  const cookie = `PBSAuthCookie=${encodeURIComponent(login.json.data.ticket)}`;
  const csrf = login.json.data.CSRFPreventionToken as string;
  const dns = "/api2/json/nodes/localhost/dns";
  const body = { search: "example.test", dns1: "192.0.2.53" };
  const withoutCsrf = await api(server.port, "PUT", dns, { headers: { cookie }, body });
  t.is(withoutCsrf.status, 401);
  t.is(split.reached().length, 0);
  const changed = await api(server.port, "PUT", dns, {
    headers: { cookie, csrfpreventiontoken: csrf },
    body,
  });
  t.is(changed.status, 200, changed.body.toString());
  t.like(split.reached()[0], { method: "PUT", status: 200, auth: "admin@pbs" });
  const resolv = await readFile(join(root, "sysroot", "etc", "resolv.conf"), "utf8");
  t.regex(resolv, /^search example\.test$/m);
  t.regex(resolv, /^nameserver 192\.0\.2\.53$/m);
});

test("the public daemon refuses before forwarding: no credentials 401, Audit only 403", async (t) => {
  const split = await startSplit(t);
  const { server, auditor, runner } = split;
  const anonymous = await api(server.port, "GET", `${DISKS}/list`);
  t.is(anonymous.status, 401);
  const listed = await api(server.port, "GET", `${DISKS}/list`, { headers: auditor });
  t.is(listed.status, 200);
  const wipe = await api(server.port, "PUT", `${DISKS}/wipedisk`, {
    headers: auditor,
    body: { disk: "sdb" },
  });
  t.is(wipe.status, 403);
  t.regex(wipe.json.message, /Sys\.Modify/);
  t.deepEqual(runner.of("wipefs"), []);
  // only the audited listing reached root
  t.deepEqual(
    split.reached().map((line) => line.path),
    [`${DISKS}/list`],
  );
});

test("the privileged socket checks every request itself", async (t) => {
  const split = await startSplit(t);
  const { socket, admin, auditor, runner } = split;
  const anonymous = await direct(socket, "GET", `${DISKS}/list`);
  t.is(anonymous.status, 401);
  t.is(anonymous.json.code, "CAIRN_E_API_UNAUTHENTICATED");
  const forged = await direct(socket, "GET", `${DISKS}/list`, {
    authorization: "PBSAPIToken=admin@pbs!ops:not-the-secret",
  });
  t.is(forged.status, 401);
  const rootTicket = await direct(socket, "GET", `${DISKS}/list`, {
    cookie: "PBSAuthCookie=PBS%3Aroot%40pam%3A00000000%3A%3Aforged",
  });
  t.is(rootTicket.status, 401);
  const wipe = await direct(socket, "PUT", `${DISKS}/wipedisk?disk=sdb`, auditor);
  t.is(wipe.status, 403);
  t.regex(wipe.json.message, /Sys\.Modify/);
  t.deepEqual(runner.calls, []);
  const listed = await direct(socket, "GET", `${DISKS}/list`, admin);
  t.is(listed.status, 200);
});

test("the privileged socket serves the system routes only", async (t) => {
  const split = await startSplit(t);
  const { socket, admin } = split;
  for (const path of [
    "/api2/json/ping",
    "/api2/json/version",
    "/api2/json/admin/datastore",
    "/api2/json/access/users",
    "/api2/json/nodes/localhost/tasks",
    "/api2/json/nodes/localhost/certificates/info",
  ]) {
    const answer = await direct(socket, "GET", path, admin);
    t.is(answer.status, 404, path);
    t.is(answer.json.code, "CAIRN_E_API_NOT_FOUND", path);
  }
  t.is((await direct(socket, "GET", "/api2/json/nodes/localhost/network", admin)).status, 200);
});

test("refusals of the privileged service reach the caller with status, code and message", async (t) => {
  const split = await startSplit(t);
  const { server, admin } = split;
  // valid for the schema, so only the privileged side can tell the disk is not there
  const wipe = await api(server.port, "PUT", `${DISKS}/wipedisk`, {
    headers: admin,
    body: { disk: "sdz" },
  });
  t.is(wipe.status, 404, wipe.body.toString());
  t.is(wipe.json.message, "no disk /dev/sdz");
  t.is(wipe.json.code, "CAIRN_E_SYSTEM_NOT_FOUND");
  t.is(wipe.statusText, "no disk /dev/sdz");
});

test("with the privileged service stopped the public daemon answers 503 and keeps serving", async (t) => {
  const split = await startSplit(t);
  const { server, admin, privileged, socket } = split;
  await privileged.close(1000);
  const answer = await api(server.port, "GET", `${DISKS}/list`, { headers: admin });
  t.is(answer.status, 503);
  t.is(answer.json.code, "CAIRN_E_PRIVILEGED_UNAVAILABLE");
  t.true((answer.json.message as string).includes(socket), answer.json.message);
  t.is((await api(server.port, "GET", `${DISKS}/list`)).status, 401);
  t.is((await api(server.port, "GET", "/api2/json/ping")).status, 200);
});

const NOBODY = 65534;
const CLI = fileURLToPath(new URL("../../appliance/cli/cairn-server.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

/** Root, a `nobody` account, and a checkout that user can read (a clone under /root is not). */
function canRunAsNobody(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync(
    process.execPath,
    ["-e", "require('fs').accessSync(process.argv[1])", CLI],
    {
      uid: NOBODY,
      gid: NOBODY,
    },
  );
  return probe.status === 0;
}

const asNobody = canRunAsNobody() ? test : test.skip;

asNobody("the public daemon runs as nobody and forwards disk requests to root", async (t) => {
  t.timeout(180_000);
  const root = await mkdtemp(join(tmpdir(), "cairn-split-"));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await chmod(root, 0o755);
  const configDir = join(root, "config");
  const stateDir = join(root, "state");
  await mkdir(stateDir, { mode: 0o700 });
  const access = await AccessControl.open(configDir, { passwordCost: CHEAP_COST });
  const admin = await account(access, "admin@pbs", "Admin");
  // the daemon's own directories, as postinst makes them
  spawnSync("chown", ["-R", `${NOBODY}:${NOBODY}`, configDir, stateDir]);
  const runDir = join(root, "run");
  await mkdir(runDir, { mode: 0o755 });
  const socket = join(runDir, "privileged.sock");
  const runner = new RecordingRunner(answers);
  const privileged = await PrivilegedService.start({
    socketPath: socket,
    configDir,
    stateDir,
    access,
    logger: silentLogger(),
    runner,
  });
  t.teardown(() => privileged.close(1000));
  const info = await stat(socket);
  t.is(info.mode & 0o777, 0o660);
  t.is(info.uid, 0);
  t.is(info.gid, NOBODY); // the state directory's group

  const child = spawn(
    process.execPath,
    ["--import", TSX, CLI, "--config-dir", configDir, "--state-dir", stateDir].concat([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--privileged-socket",
      socket,
    ]),
    {
      uid: NOBODY,
      gid: NOBODY,
      cwd: root,
      env: { ...process.env, HOME: root },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  t.teardown(async () => {
    child.kill("SIGTERM");
    await exited;
  });
  let banner = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      banner += chunk.toString();
      const found = /listening on https:\/\/[^:]+:(\d+)\//.exec(banner);
      if (found) resolve(Number(found[1]));
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${banner}`)));
  });
  const status = await readFile(`/proc/${child.pid}/status`, "utf8");
  t.regex(status, /^Uid:\s+65534\s/m);

  t.is((await api(port, "GET", "/api2/json/ping")).status, 200);
  const listed = await api(port, "GET", `${DISKS}/list`, { headers: admin });
  t.is(listed.status, 200, listed.body.toString());
  t.is(listed.json.data.length, 7);
  t.is(runner.of("lsblk").length, 1);

  // root's task files stay the daemon's: it reads their status and log
  const wipe = await api(port, "PUT", `${DISKS}/wipedisk`, {
    headers: admin,
    body: { disk: "sdc" },
  });
  t.is(wipe.status, 200, wipe.body.toString());
  const upid = wipe.json.data as string;
  await privileged.tasks.wait(upid);
  const tasks = `/api2/json/nodes/localhost/tasks/${encodeURIComponent(upid)}`;
  const done = await api(port, "GET", `${tasks}/status`, { headers: admin });
  t.like(done.json.data, { status: "stopped", exitstatus: "OK" });
  const log = await api(port, "GET", `${tasks}/log`, { headers: admin });
  t.is(log.status, 200, log.body.toString());
  t.is((await stat(join(stateDir, "tasks", "archive"))).uid, NOBODY);
});

test("cairn-server --privileged listens on its socket only and removes it on SIGTERM", async (t) => {
  t.timeout(120_000);
  const root = await mkdtemp(join(tmpdir(), "cairn-split-"));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const socket = join(root, "run", "privileged.sock");
  const child = spawn(
    process.execPath,
    ["--import", TSX, CLI, "--privileged", "--socket", socket].concat([
      "--config-dir",
      join(root, "config"),
      "--state-dir",
      join(root, "state"),
    ]),
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  t.teardown(() => child.kill("SIGKILL"));
  let banner = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      banner += chunk.toString();
      if (banner.includes(`privileged service listening on ${socket}`)) resolve();
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${banner}`)));
  });
  t.is((await stat(socket)).mode & 0o777, 0o660);
  const anonymous = await direct(socket, "GET", `${DISKS}/list`);
  t.is(anonymous.status, 401);
  child.kill("SIGTERM");
  t.is(await exited, 0);
  await t.throwsAsync(stat(socket), { code: "ENOENT" });
});
