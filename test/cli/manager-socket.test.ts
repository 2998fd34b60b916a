import { spawnSync } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { z } from "zod";
import { LocalApi } from "../../appliance/cli/local-api.js";
import { defineRoute } from "../../appliance/server/api/route.js";
import { RouteTable } from "../../appliance/server/api/route-table.js";
import { LocalApiSocket, LocalApiSocketError } from "../../appliance/server/local-api-socket.js";
import { silentLogger } from "../../appliance/server/logger.js";
import { StandInAccess, tokenHeader } from "../server/helpers/stand-in-access.js";

const whoami = defineRoute({
  method: "GET",
  path: "/whoami",
  description: "The caller.",
  parameters: z.strictObject({}),
  permission: { kind: "privileges", path: "/system", privileges: ["Sys.Audit"] },
  handler: async ({ auth }) => auth,
});

function rawGet(socketPath: string, path: string, headers: Record<string, string>) {
  return new Promise<string>((resolve, reject) => {
    http
      .get({ socketPath, path, headers }, (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

async function socketDir(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "cairn-socket-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function start(path: string) {
  return LocalApiSocket.start({
    path,
    table: new RouteTable([whoami]),
    access: new StandInAccess(),
    logger: silentLogger(),
  });
}

test("every request on the admin socket is root@pam, whatever credentials it carries", async (t) => {
  const path = join(await socketDir(t), "api.sock");
  const socket = await start(path);
  t.teardown(() => socket.close(0));
  t.is((await lstat(path)).mode & 0o777, 0o600);
  const sent = await rawGet(path, "/api2/json/whoami", tokenHeader("nobody@pbs"));
  t.deepEqual(JSON.parse(sent).data, { authId: "root@pam", userId: "root@pam" });
  const answer = await new LocalApi(path, "cairn-server").get("/whoami");
  t.deepEqual(answer.data, { authId: "root@pam", userId: "root@pam" });
});

test("closing removes the socket; a later start replaces one left by a killed process", async (t) => {
  const path = join(await socketDir(t), "api.sock");
  await (await start(path)).close(0);
  await t.throwsAsync(lstat(path), { code: "ENOENT" });

  const killed = spawnSync(process.execPath, [
    "-e",
    `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
  ]);
  t.is(killed.signal, "SIGKILL");
  t.true((await lstat(path)).isSocket());
  const next = await start(path);
  t.teardown(() => next.close(0));
  const answer = await new LocalApi(path, "cairn-server").get<{ authId: string }>("/whoami");
  t.is(answer.data.authId, "root@pam");
});

test("a second server on the same socket is refused while the first answers", async (t) => {
  const path = join(await socketDir(t), "api.sock");
  const first = await start(path);
  t.teardown(() => first.close(0));
  const error = await t.throwsAsync(start(path), { instanceOf: LocalApiSocketError });
  t.is(error?.code, "CAIRN_E_LOCAL_API_IN_USE");
  t.regex(error?.message ?? "", /another cairn-server already serves/);
});

test("a directory others may write to, a file in the way or an overlong path is refused", async (t) => {
  const dir = await socketDir(t);
  const open = join(dir, "open");
  await mkdir(open);
  await chmod(open, 0o777);
  await t.throwsAsync(start(join(open, "api.sock")), {
    instanceOf: LocalApiSocketError,
    message: /writable by other users/,
  });
  await writeFile(join(dir, "api.sock"), "not a socket");
  await t.throwsAsync(start(join(dir, "api.sock")), {
    instanceOf: LocalApiSocketError,
    message: /is not a socket/,
  });
  await t.throwsAsync(start(join(dir, "x".repeat(120), "api.sock")), {
    instanceOf: LocalApiSocketError,
    message: /longer than 107 bytes/,
  });
});
