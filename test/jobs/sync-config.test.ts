import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { groupPasses, parseGroupFilter } from "../../appliance/jobs/group-filter.js";
import { openSecret, sealSecret } from "../../appliance/jobs/remote-secret.js";
import { parseByteSize } from "../../appliance/jobs/sync-config.js";
import { createJobs } from "../../appliance/server/routes/jobs-setup.js";
import { api } from "../server/helpers/client.js";
import { addStore } from "../server/helpers/snapshots.js";
import { tokenHeader } from "../server/helpers/stand-in-access.js";
import { startTestServer } from "../server/helpers/test-server.js";

const ROOT = tokenHeader("root@pam");
const FINGERPRINT = Array.from({ length: 32 }, () => "ab").join(":");
const REMOTE = {
  name: "site-a",
  host: "backup.example.org",
  "auth-id": "sync@pbs!job",
  password: "s3cret",
  fingerprint: FINGERPRINT,
};

async function start(t: import("ava").ExecutionContext) {
  const root = await mkdtemp(join(tmpdir(), "cairn-sync-config-"));
  const configDir = join(root, "config");
  const server = await startTestServer({
    root,
    extraRoutes: (services) =>
      createJobs(services, { configDir, stateDir: join(root, "state") }).routes,
  });
  t.teardown(() => server.stop());
  await addStore(configDir, "store1", join(root, "store1"));
  const call = (method: string, path: string, body?: unknown) =>
    api(server.port, method, `/api2/json${path}`, {
      headers: ROOT,
      ...(body !== undefined && { body }),
    });
  return { call, configDir };
}

test("bad remote input is a 400 naming the parameter", async (t) => {
  const { call } = await start(t);
  const cases: [Record<string, unknown>, string][] = [
    [{ host: "bad host!" }, "host"],
    [{ port: 70000 }, "port"],
    [{ "auth-id": "nobody" }, "auth-id"],
    [{ fingerprint: "ab:cd" }, "fingerprint"],
    [{ name: "x" }, "name"],
    [{ password: "" }, "password"],
  ];
  for (const [change, field] of cases) {
    const answer = await call("POST", "/config/remote", { ...REMOTE, ...change });
    t.is(answer.status, 400, `${field}: ${answer.body}`);
    t.true(field in answer.json.errors, `${field}: ${answer.body}`);
  }
  t.is((await call("POST", "/config/remote", REMOTE)).status, 200);
  t.is((await call("POST", "/config/remote", REMOTE)).status, 409);
  const listed = await call("GET", "/config/remote");
  t.deepEqual(listed.json.data, [
    {
      name: "site-a",
      host: "backup.example.org",
      "auth-id": "sync@pbs!job",
      fingerprint: FINGERPRINT,
    },
  ]);
  t.is(
    (await call("PUT", "/config/remote/site-a", { port: 8100, comment: "other site" })).status,
    200,
  );
  t.like((await call("GET", "/config/remote/site-a")).json.data, {
    port: 8100,
    comment: "other site",
  });
  t.is((await call("PUT", "/config/remote/site-a", { delete: "port" })).status, 200);
  t.false("port" in (await call("GET", "/config/remote/site-a")).json.data);
  t.is((await call("GET", "/config/remote/nowhere")).status, 404);
  // a remote that does not answer: the scan is a 502 naming it, not a 500
  await call("PUT", "/config/remote/site-a", { host: "127.0.0.1", port: 1 });
  const scan = await call("GET", "/config/remote/site-a/scan");
  t.is(scan.status, 502);
  t.regex(scan.json.message, /remote site-a \(127\.0\.0\.1:1\)/);
  t.is((await call("DELETE", "/config/remote/site-a")).status, 200);
  t.deepEqual((await call("GET", "/config/remote")).json.data, []);
});

test("bad sync job input is a 400 naming the parameter", async (t) => {
  const { call } = await start(t);
  await call("POST", "/config/remote", REMOTE);
  const job = { id: "pull-a", store: "store1", remote: "site-a", "remote-store": "store1" };
  const cases: [Record<string, unknown>, string][] = [
    [{ remote: "nowhere" }, "remote"],
    [{ "group-filter": ["kind:vm"] }, "group-filter"],
    [{ "group-filter": ["regex:("] }, "group-filter"],
    [{ "transfer-last": 0 }, "transfer-last"],
    [{ "rate-in": "fast" }, "rate-in"],
    [{ "max-depth": 8 }, "max-depth"],
    [{ owner: "root" }, "owner"],
    [{ schedule: "dayly" }, "schedule"],
    [{ "remote-ns": "a//b" }, "remote-ns"],
  ];
  for (const [change, field] of cases) {
    const answer = await call("POST", "/config/sync", { ...job, ...change });
    t.is(answer.status, 400, `${field}: ${answer.body}`);
    const named = Object.keys(answer.json.errors ?? {});
    t.true(
      named.some((key) => key === field || key.startsWith(`${field}.`)),
      `${field}: ${answer.body}`,
    );
  }
  const { "remote-store": _, ...withoutStore } = job;
  t.true("remote-store" in (await call("POST", "/config/sync", withoutStore)).json.errors);
  const created = await call("POST", "/config/sync", {
    ...job,
    "group-filter": ["type:vm", "exclude:regex:^vm/9"],
    "rate-in": "10MiB",
    schedule: "hourly",
  });
  t.is(created.status, 200, created.body.toString());
  const listed = await call("GET", "/admin/sync");
  t.like(listed.json.data[0], { id: "pull-a", "group-filter": ["type:vm", "exclude:regex:^vm/9"] });
  t.is(typeof listed.json.data[0]["next-run"], "number");
  t.is((await call("PUT", "/config/sync/pull-a", { remote: "gone" })).status, 400);
  t.is((await call("DELETE", "/config/sync/pull-a")).status, 200);
});

test("group filters, byte sizes and sealed secrets", async (t) => {
  const filters = ["type:vm", "group:ct/200", "exclude:regex:^vm/1\\d\\d$"].map(parseGroupFilter);
  t.true(groupPasses(filters, { type: "vm", id: "42" }));
  t.false(groupPasses(filters, { type: "vm", id: "142" }));
  t.true(groupPasses(filters, { type: "ct", id: "200" }));
  t.false(groupPasses(filters, { type: "host", id: "web" }));
  t.true(groupPasses([], { type: "host", id: "web" }));
  t.throws(() => parseGroupFilter("type:disk"), { message: /type must be vm, ct or host/ });
  t.is(parseByteSize("10MiB"), 10 * 1024 * 1024);
  t.is(parseByteSize("1.5 kB"), 1500);
  t.is(parseByteSize(4096), 4096);
  t.is(parseByteSize("lots"), undefined);
  const dir = await mkdtemp(join(tmpdir(), "cairn-secret-"));
  const sealed = await sealSecret(dir, "token secret");
  t.false(sealed.includes("token secret"));
  t.not(sealed, await sealSecret(dir, "token secret"));
  t.is(await openSecret(dir, sealed), "token secret");
  t.is(await openSecret(dir, Buffer.from("plain").toString("base64")), "plain");
});
