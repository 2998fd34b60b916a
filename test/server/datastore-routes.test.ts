import { readFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import type { Datastore } from "../../appliance/datastore/datastore.js";
import { encodeBlob } from "../../appliance/format/blob.js";
import { api } from "./helpers/client.js";
import { ARCHIVE_DATA, addSnapshot, addStore, NOTES_TEXT } from "./helpers/snapshots.js";
import { StandInAccess, tokenHeader } from "./helpers/stand-in-access.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

const root = tokenHeader("root@pam");
const backupUser = tokenHeader("backup@pbs");
const reader = tokenHeader("reader@pbs");
const T1 = 1_700_000_000;
const T2 = T1 + 86_400;
const T3 = T2 + 86_400;
let server: TestServer;
let store: Datastore;

test.before(async () => {
  server = await startTestServer({
    access: new StandInAccess(
      [
        { authId: "backup@pbs", path: "/datastore/store1", privileges: ["Datastore.Backup"] },
        {
          authId: "reader@pbs",
          path: "/datastore/store1",
          privileges: ["Datastore.Audit", "Datastore.Read"],
        },
      ],
      ["root@pam", "backup@pbs", "backup@pbs!tok", "reader@pbs", "other@pbs"],
    ),
  });
  store = await addStore(server.configDir, "store1", join(server.root, "store1"));
  for (const time of [T1, T2, T3])
    await addSnapshot(store, { type: "host", id: "web", time, owner: "backup@pbs" });
  await addSnapshot(store, { type: "vm", id: "100", time: T1, owner: "root@pam" });
  await store.createNamespace(["dev"]);
  await addSnapshot(store, { ns: ["dev"], type: "ct", id: "200", time: T1, owner: "root@pam" });
});

test.after.always(async () => {
  await server?.stop();
});

const base = "/api2/json/admin/datastore/store1";
const get = (path: string, headers = root) =>
  api(server.port, "GET", `${base}${path}`, { headers });
const send = (method: string, path: string, body: unknown, headers = root) =>
  api(server.port, method, `${base}${path}`, { headers, body });
const web = (time: number) => `backup-type=host&backup-id=web&backup-time=${time}`;

test.serial("the datastore list shows stores the caller has any privilege on", async (t) => {
  t.deepEqual(
    (await api(server.port, "GET", "/api2/json/admin/datastore", { headers: root })).json.data,
    [{ store: "store1" }],
  );
  t.deepEqual(
    (await api(server.port, "GET", "/api2/json/admin/datastore", { headers: backupUser })).json
      .data,
    [{ store: "store1" }],
  );
  t.deepEqual(
    (
      await api(server.port, "GET", "/api2/json/admin/datastore", {
        headers: tokenHeader("nobody@pbs"),
      })
    ).json.data,
    [],
  );
  const usage = await api(server.port, "GET", "/api2/json/status/datastore-usage", {
    headers: root,
  });
  t.is(usage.json.data[0].store, "store1");
  t.true(usage.json.data[0].total > 0);
});

test.serial(
  "groups list all groups for Datastore.Audit and own groups for Datastore.Backup",
  async (t) => {
    const all = await get("/groups");
    t.is(all.status, 200);
    t.deepEqual(all.json.data, [
      {
        "backup-type": "host",
        "backup-id": "web",
        "last-backup": T3,
        "backup-count": 3,
        files: ["notes.conf.blob", "root.pxar.didx", "index.json.blob"],
        owner: "backup@pbs",
      },
      {
        "backup-type": "vm",
        "backup-id": "100",
        "last-backup": T1,
        "backup-count": 1,
        files: ["notes.conf.blob", "root.pxar.didx", "index.json.blob"],
        owner: "root@pam",
      },
    ]);
    const own = await get("/groups", backupUser);
    t.deepEqual(
      own.json.data.map((g: { "backup-id": string }) => g["backup-id"]),
      ["web"],
    );
    const ns = await get("/groups?ns=dev");
    t.deepEqual(
      ns.json.data.map((g: { "backup-id": string }) => g["backup-id"]),
      ["200"],
    );
    t.is((await get("/groups", tokenHeader("nobody@pbs"))).status, 403);
  },
);

test.serial("snapshots and files are listed in PBS shapes", async (t) => {
  const listed = await get("/snapshots?backup-type=host&backup-id=web");
  t.deepEqual(
    listed.json.data.map((s: { "backup-time": number }) => s["backup-time"]),
    [T1, T2, T3],
  );
  const first = listed.json.data[0];
  t.like(first, {
    "backup-type": "host",
    "backup-id": "web",
    owner: "backup@pbs",
    protected: false,
  });
  t.deepEqual(first.files.slice(0, 2), [
    { filename: "notes.conf.blob", "crypt-mode": "none", size: first.files[0].size },
    {
      filename: "root.pxar.didx",
      "crypt-mode": "none",
      size: ARCHIVE_DATA[0]!.length + ARCHIVE_DATA[1]!.length,
    },
  ]);
  t.is(typeof first.size, "number");
  const asBackupUser = await get("/snapshots", backupUser);
  t.true(asBackupUser.json.data.every((s: { "backup-id": string }) => s["backup-id"] === "web"));
  const files = await get(`/files?${web(T1)}`);
  t.deepEqual(
    files.json.data.map((f: { filename: string }) => f.filename),
    ["notes.conf.blob", "root.pxar.didx", "index.json.blob"],
  );
  t.is(
    (await get(`/files?backup-type=vm&backup-id=100&backup-time=${T1}`, backupUser)).status,
    403,
  );
  t.is((await get(`/files?${web(T1 + 1)}`)).status, 404);
});

test.serial("notes, group notes and protection", async (t) => {
  t.is(
    (
      await send("PUT", "/notes", {
        "backup-type": "host",
        "backup-id": "web",
        "backup-time": T1,
        notes: "first\nsecond",
      })
    ).status,
    200,
  );
  t.is((await get(`/notes?${web(T1)}`)).json.data, "first\nsecond");
  const listed = await get("/snapshots?backup-type=host&backup-id=web");
  t.is(listed.json.data[0].comment, "first");

  t.is(
    (
      await send(
        "PUT",
        "/group-notes",
        { "backup-type": "host", "backup-id": "web", notes: "the web server" },
        backupUser,
      )
    ).status,
    200,
  );
  t.is(
    (await get("/group-notes?backup-type=host&backup-id=web", backupUser)).json.data,
    "the web server",
  );
  t.is(
    (
      await send(
        "PUT",
        "/group-notes",
        { "backup-type": "vm", "backup-id": "100", notes: "x" },
        backupUser,
      )
    ).status,
    403,
  );

  t.is(
    (
      await send("PUT", "/protected", {
        "backup-type": "host",
        "backup-id": "web",
        "backup-time": T1,
        protected: true,
      })
    ).status,
    200,
  );
  t.true((await get(`/protected?${web(T1)}`)).json.data);
  const refused = await api(server.port, "DELETE", `${base}/snapshots?${web(T1)}`, {
    headers: root,
  });
  t.is(refused.status, 409);
  t.regex(refused.json.message, /protected/);
  t.true(await store.snapshotExists({ ns: [], type: "host", id: "web", time: T1 }));
});

test.serial("downloads: raw bytes as stored, decoded blob and archive", async (t) => {
  const raw = await get(`/download?${web(T2)}&file-name=notes.conf.blob`, reader);
  t.is(raw.status, 200);
  t.is(raw.headers["content-type"], "application/octet-stream");
  const onDisk = await readFile(
    join(store.snapshotDir({ ns: [], type: "host", id: "web", time: T2 }), "notes.conf.blob"),
  );
  t.deepEqual(raw.body, onDisk);
  const blob = await get(`/download-decoded?${web(T2)}&file-name=notes.conf.blob`, reader);
  t.is(blob.body.toString(), NOTES_TEXT);
  const archive = await get(`/download-decoded?${web(T2)}&file-name=root.pxar.didx`, reader);
  t.deepEqual(archive.body, Buffer.concat(ARCHIVE_DATA));
  t.is((await get(`/download?${web(T2)}&file-name=missing.blob`, reader)).status, 404);
  t.is(
    (await get(`/download?${web(T2)}&file-name=notes.conf.blob`, tokenHeader("nobody@pbs"))).status,
    403,
  );
});

test.serial("a client log is accepted once, from the owner, as a valid blob", async (t) => {
  const log = encodeBlob(Buffer.from("client says hi"), { compress: true });
  const path = `/upload-backup-log?${web(T2)}`;
  const upload = (body: Buffer, headers = backupUser) =>
    api(server.port, "POST", `${base}${path}`, {
      headers: { ...headers, "content-type": "application/octet-stream" },
      body,
    });
  t.is((await upload(log, reader)).status, 403);
  const broken = Buffer.from(log);
  broken[broken.length - 1]! ^= 0xff;
  t.is((await upload(broken)).status, 400);
  t.is((await upload(log)).status, 200);
  t.is((await upload(log)).status, 409);
  const files = await get(`/files?${web(T2)}`);
  t.true(files.json.data.some((f: { filename: string }) => f.filename === "client.log.blob"));
});

test.serial(
  "prune dry-run reports PBS's shape and removes nothing; a real prune removes",
  async (t) => {
    const dry = await send("POST", "/prune", {
      "backup-type": "host",
      "backup-id": "web",
      "keep-last": 1,
      "dry-run": true,
    });
    t.is(dry.status, 200, dry.body.toString());
    t.deepEqual(dry.json.data, [
      {
        "backup-type": "host",
        "backup-id": "web",
        "backup-time": T3,
        keep: true,
        protected: false,
      },
      {
        "backup-type": "host",
        "backup-id": "web",
        "backup-time": T2,
        keep: false,
        protected: false,
      },
      { "backup-type": "host", "backup-id": "web", "backup-time": T1, keep: true, protected: true },
    ]);
    t.is((await store.listSnapshots([], { type: "host", id: "web" })).length, 3);
    t.is(
      (
        await send(
          "POST",
          "/prune",
          { "backup-type": "host", "backup-id": "web", "keep-last": 1 },
          reader,
        )
      ).status,
      403,
    );
    const task = await send("POST", "/prune", {
      "backup-type": "host",
      "backup-id": "web",
      "keep-last": 1,
      "use-task": true,
    });
    t.regex(task.json.data, /^UPID:.*:prune:store1\\x3ahost-web:root@pam:$/);
    t.is((await server.server.tasks.wait(task.json.data)).exitstatus, "OK");
    const log = await server.server.tasks.readLog(task.json.data, 0, 0);
    t.true(log.lines.some((line) => /retention options: --keep-last 1$/.test(line.t)));
    t.deepEqual(
      (await store.listSnapshots([], { type: "host", id: "web" })).map((s) => s.time),
      [T1, T3],
    );
  },
);

test.serial("prune-datastore runs as a task over every group the caller may prune", async (t) => {
  await addSnapshot(store, { type: "vm", id: "100", time: T2, owner: "root@pam" });
  const task = await send("POST", "/prune-datastore", { "keep-last": 1, "dry-run": true });
  t.is((await server.server.tasks.wait(task.json.data)).exitstatus, "OK");
  const log = (await server.server.tasks.readLog(task.json.data, 0, 0)).lines.map((line) => line.t);
  t.true(
    log.some((line) => line.endsWith("vm/100/2023-11-14T22:13:20Z remove")),
    log.join("\n"),
  );
  t.is((await store.listSnapshots([], { type: "vm", id: "100" })).length, 2);
});

test.serial("garbage collection and verification run as tasks and report", async (t) => {
  const gc = await send("POST", "/gc", {});
  t.regex(gc.json.data, /:garbage_collection:store1:root@pam:$/);
  t.is((await server.server.tasks.wait(gc.json.data)).exitstatus, "OK");
  const status = await get("/gc");
  t.is(status.json.data.upid, gc.json.data);
  t.true(status.json.data["index-file-count"] >= 4);
  t.is((await send("POST", "/gc", {}, backupUser)).status, 403);

  const verify = await send("POST", "/verify", { "backup-type": "host", "backup-id": "web" });
  t.regex(verify.json.data, /:verify_group:store1\\x3ahost-web:root@pam:$/);
  t.is((await server.server.tasks.wait(verify.json.data)).exitstatus, "OK");
  const listed = await get("/snapshots?backup-type=host&backup-id=web");
  t.deepEqual(
    listed.json.data.map((s: { verification?: { state: string } }) => s.verification?.state),
    ["ok", "ok"],
  );
  const whole = await send("POST", "/verify", {}, backupUser);
  t.is((await server.server.tasks.wait(whole.json.data)).exitstatus, "OK");
  const bad = await send("POST", "/verify", { "backup-id": "web" });
  t.is(bad.status, 400);

  const summary = await get("/status?verbose=true");
  t.like(summary.json.data.counts, {
    host: { groups: 1, snapshots: 2 },
    vm: { groups: 1, snapshots: 2 },
  });
  t.is(summary.json.data["gc-status"].upid, gc.json.data);
});

test.serial("namespaces are listed, created and deleted", async (t) => {
  t.deepEqual((await get("/namespace")).json.data, [{ ns: "" }, { ns: "dev" }]);
  const created = await send("POST", "/namespace", { name: "sub", parent: "dev" });
  t.is(created.json.data, "dev/sub");
  t.deepEqual((await get("/namespace?parent=dev")).json.data, [{ ns: "dev" }, { ns: "dev/sub" }]);
  t.is((await send("POST", "/namespace", { name: "sub", parent: "dev" })).status, 409);
  t.is((await send("POST", "/namespace", { name: "x" }, backupUser)).status, 403);
  const refused = await api(server.port, "DELETE", `${base}/namespace?ns=dev`, { headers: root });
  t.is(refused.status, 409);
  t.is(
    (await api(server.port, "DELETE", `${base}/namespace?ns=dev/sub`, { headers: root })).status,
    200,
  );
  t.is(
    (
      await api(server.port, "DELETE", `${base}/namespace?ns=dev&delete-groups=1`, {
        headers: root,
      })
    ).status,
    200,
  );
  t.deepEqual((await get("/namespace")).json.data, [{ ns: "" }]);
});

test.serial("owners change within the rules", async (t) => {
  const body = { "backup-type": "host", "backup-id": "web", "new-owner": "other@pbs" };
  t.is((await send("POST", "/change-owner", body, backupUser)).status, 403);
  t.is(
    (await send("POST", "/change-owner", { ...body, "new-owner": "backup@pbs!tok" }, backupUser))
      .status,
    200,
  );
  t.is(await store.getOwner([], "host", "web"), "backup@pbs!tok");
  const ghost = await send("POST", "/change-owner", { ...body, "new-owner": "ghost@pbs" });
  t.is(ghost.status, 400);
  t.regex(ghost.json.message, /new-owner: ghost@pbs is not an existing/);
  t.is(await store.getOwner([], "host", "web"), "backup@pbs!tok");
  t.is((await send("POST", "/change-owner", body)).status, 200);
  t.is(await store.getOwner([], "host", "web"), "other@pbs");
  t.deepEqual((await get("/groups", backupUser)).json.data, []);
});

test.serial("snapshots and groups are deleted", async (t) => {
  await send("PUT", "/protected", {
    "backup-type": "host",
    "backup-id": "web",
    "backup-time": T1,
    protected: false,
  });
  t.is(
    (await api(server.port, "DELETE", `${base}/snapshots?${web(T1)}`, { headers: root })).status,
    200,
  );
  t.false(await store.snapshotExists({ ns: [], type: "host", id: "web", time: T1 }));
  t.is(
    (
      await api(server.port, "DELETE", `${base}/groups?backup-type=host&backup-id=web`, {
        headers: root,
      })
    ).status,
    200,
  );
  t.false(await store.groupExists([], "host", "web"));
  t.is(
    (
      await api(server.port, "DELETE", `${base}/groups?backup-type=host&backup-id=web`, {
        headers: root,
      })
    ).status,
    404,
  );
});
