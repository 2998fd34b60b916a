import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { Datastore } from "../../appliance/datastore/datastore.js";
import { ConfigError } from "../../appliance/server/config/config-errors.js";
import { datastoreConfigFile } from "../../appliance/server/config/datastore-config.js";
import { formatTuning, parseTuning } from "../../appliance/server/config/datastore-tuning.js";
import { api } from "./helpers/client.js";
import { StandInAccess, tokenHeader } from "./helpers/stand-in-access.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

const root = tokenHeader("root@pam");
let server: TestServer;

test.before(async () => {
  server = await startTestServer({
    access: new StandInAccess([
      { authId: "auditor@pbs", path: "/datastore/visible", privileges: ["Datastore.Audit"] },
    ]),
  });
});

test.after.always(async () => {
  await server?.stop();
});

async function tempDir(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "cairn-config-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// ---- files ----

test("a missing config file reads as empty; updates are written atomically as JSON", async (t) => {
  const dir = await tempDir(t);
  const file = datastoreConfigFile(dir);
  t.deepEqual((await file.read()).value, { datastore: {} });
  const written = await file.update((value) => ({
    datastore: { ...value.datastore, abc: { path: "/srv/abc" } },
  }));
  const text = await readFile(join(dir, "datastore.json"), "utf8");
  t.deepEqual(JSON.parse(text), { datastore: { abc: { path: "/srv/abc" } } });
  t.is((await file.read()).digest, written.digest);
  t.false((await readdir(dir)).some((name) => name.includes(".tmp_")));
});

test("a broken config file is an error naming the file and the problem", async (t) => {
  const dir = await tempDir(t);
  const file = datastoreConfigFile(dir);
  await writeFile(join(dir, "datastore.json"), "{not json");
  let err = await t.throwsAsync(file.read(), { instanceOf: ConfigError });
  t.true(err!.message.startsWith(join(dir, "datastore.json")));
  t.regex(err!.message, /not valid JSON/);
  await writeFile(
    join(dir, "datastore.json"),
    JSON.stringify({ datastore: { abc: { path: "relative" } } }),
  );
  err = await t.throwsAsync(file.read(), { instanceOf: ConfigError });
  t.regex(err!.message, /datastore\.abc\.path: must be an absolute path/);
  await writeFile(
    join(dir, "datastore.json"),
    JSON.stringify({ datastore: { abc: { path: "/x", colour: 1 } } }),
  );
  err = await t.throwsAsync(file.read(), { instanceOf: ConfigError });
  t.regex(err!.message, /colour/);
});

test("an update based on an outdated digest is refused", async (t) => {
  const dir = await tempDir(t);
  const file = datastoreConfigFile(dir);
  const { digest } = await file.read();
  await file.update(() => ({ datastore: { one: { path: "/one" } } }));
  const err = await t.throwsAsync(
    file.update(() => ({ datastore: {} }), digest),
    { instanceOf: ConfigError },
  );
  t.is(err!.httpStatus, 409);
  t.deepEqual(Object.keys((await file.read()).value.datastore), ["one"]);
});

test("tuning strings parse, refuse unknown or bad options and format canonically", (t) => {
  t.deepEqual(parseTuning("chunk-order=inode, sync-level=file"), {
    "chunk-order": "inode",
    "sync-level": "file",
  });
  t.is(
    formatTuning(parseTuning("gc-atime-cutoff=60,sync-level=none")),
    "sync-level=none,gc-atime-cutoff=60",
  );
  t.throws(() => parseTuning("sync-level=sometimes"), {
    message: /sync-level must be none, file or filesystem/,
  });
  t.throws(() => parseTuning("turbo=1"), { message: /unknown option "turbo"/ });
  t.throws(() => parseTuning("gc-atime-cutoff=0"), { message: /gc-atime-cutoff/ });
  t.throws(() => parseTuning("sync-level=file,sync-level=none"), { message: /given twice/ });
});

// ---- /config/datastore ----

async function waitTask(upid: string) {
  return server.server.tasks.wait(upid);
}

test("creating, reading, changing and removing a datastore through the API", async (t) => {
  const path = join(server.root, "stores", "alpha");
  const created = await api(server.port, "POST", "/api2/json/config/datastore", {
    headers: root,
    body: { name: "alpha", path, comment: "first", "keep-last": 3, tuning: "sync-level=none" },
  });
  t.is(created.status, 200, created.body.toString());
  t.regex(created.json.data, /^UPID:testnode:.*:create-datastore:alpha:root@pam:$/);
  t.is((await waitTask(created.json.data)).exitstatus, "OK");
  await access(join(path, ".chunks", "ffff"));

  const read = await api(server.port, "GET", "/api2/json/config/datastore/alpha", {
    headers: root,
  });
  t.deepEqual(read.json.data, {
    name: "alpha",
    path,
    comment: "first",
    "keep-last": 3,
    tuning: "sync-level=none",
  });
  t.regex(read.json.digest, /^[0-9a-f]{64}$/);

  const changed = await api(server.port, "PUT", "/api2/json/config/datastore/alpha", {
    headers: root,
    body: { "gc-schedule": "daily", delete: ["comment", "keep-last"], digest: read.json.digest },
  });
  t.is(changed.status, 200, changed.body.toString());
  const after = await api(server.port, "GET", "/api2/json/config/datastore/alpha", {
    headers: root,
  });
  t.deepEqual(after.json.data, {
    name: "alpha",
    path,
    "gc-schedule": "daily",
    tuning: "sync-level=none",
  });

  const stale = await api(server.port, "PUT", "/api2/json/config/datastore/alpha", {
    headers: root,
    body: { comment: "late", digest: read.json.digest },
  });
  t.is(stale.status, 409);

  const removed = await api(server.port, "DELETE", "/api2/json/config/datastore/alpha", {
    headers: root,
  });
  t.is((await waitTask(removed.json.data)).exitstatus, "OK");
  t.is(
    (await api(server.port, "GET", "/api2/json/config/datastore/alpha", { headers: root })).status,
    404,
  );
  await access(join(path, ".chunks")); // the data stays
});

test("a datastore is refused in a non-empty directory and the task says why", async (t) => {
  const path = join(server.root, "stores", "cluttered");
  await mkdir(path, { recursive: true });
  await writeFile(join(path, "somefile"), "x");
  const created = await api(server.port, "POST", "/api2/json/config/datastore", {
    headers: root,
    body: { name: "cluttered", path },
  });
  const status = await waitTask(created.json.data);
  t.regex(status.exitstatus ?? "", /not empty/);
  t.is(
    (await api(server.port, "GET", "/api2/json/config/datastore/cluttered", { headers: root }))
      .status,
    404,
  );
});

test("an existing chunk store is adopted instead of recreated", async (t) => {
  const path = join(server.root, "stores", "adopt");
  await Datastore.create(path, { name: "adopt", preallocate: false });
  await writeFile(join(path, "marker"), "keep me");
  const created = await api(server.port, "POST", "/api2/json/config/datastore", {
    headers: root,
    body: { name: "adopt", path },
  });
  const status = await waitTask(created.json.data);
  t.is(status.exitstatus, "OK");
  t.is(await readFile(join(path, "marker"), "utf8"), "keep me");
  const log = await server.server.tasks.readLog(created.json.data, 0, 0);
  t.true(log.lines.some((line) => line.t.endsWith(`reusing the existing chunk store in ${path}`)));
});

test("bad datastore definitions are refused before anything is created", async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ name: "ab", path: "/srv/x" }, /name: must be 3 to 32 characters long/],
    [{ name: "good", path: "relative/dir" }, /path: must be an absolute path/],
    [{ name: "good", path: "/srv/../etc" }, /path: must be a normalised absolute path/],
    [{ name: "good", path: "/" }, /path: must be a normalised/],
    [
      { name: "good", path: "/srv/x", tuning: "sync-level=maybe" },
      /tuning: invalid tuning: sync-level/,
    ],
    [{ name: "good", path: "/srv/x", "keep-last": 0 }, /keep-last: must be a whole number from 1/],
    [
      { name: "good", path: "/srv/x", comment: "two\nlines" },
      /comment: must not contain control characters/,
    ],
  ];
  for (const [body, message] of cases) {
    const answer = await api(server.port, "POST", "/api2/json/config/datastore", {
      headers: root,
      body,
    });
    t.is(answer.status, 400, JSON.stringify(body));
    t.regex(answer.json.message, message);
  }
  t.deepEqual((await datastoreConfigFile(server.configDir).read()).value.datastore.good, undefined);
});

test("the datastore list shows only what the caller may audit", async (t) => {
  await datastoreConfigFile(server.configDir).update((file) => ({
    datastore: {
      ...file.datastore,
      visible: { path: "/srv/visible" },
      hidden: { path: "/srv/hidden" },
    },
  }));
  const listed = await api(server.port, "GET", "/api2/json/config/datastore", {
    headers: tokenHeader("auditor@pbs"),
  });
  t.deepEqual(
    listed.json.data.map((store: { name: string }) => store.name),
    ["visible"],
  );
  const forbidden = await api(server.port, "POST", "/api2/json/config/datastore", {
    headers: tokenHeader("auditor@pbs"),
    body: { name: "mine", path: "/srv/mine" },
  });
  t.is(forbidden.status, 403);
});
