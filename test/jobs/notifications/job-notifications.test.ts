import { createHmac } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import type { Datastore } from "../../../appliance/datastore/datastore.js";
import { formatSnapshotTime } from "../../../appliance/datastore/names.js";
import { encodeChunk } from "../../../appliance/format/chunk.js";
import { createJobs, type Jobs } from "../../../appliance/server/routes/jobs-setup.js";
import { type ApiResponse, api } from "../../server/helpers/client.js";
import { ARCHIVE_DATA, addSnapshot, addStore } from "../../server/helpers/snapshots.js";
import { tokenHeader } from "../../server/helpers/stand-in-access.js";
import { startTestServer, type TestServer } from "../../server/helpers/test-server.js";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";

const ROOT = tokenHeader("root@pam");
const TIME = 1_700_000_000;
const SECRET = "hook-signing-key-1234";

interface Setup {
  server: TestServer;
  jobs: Jobs;
  store: Datastore;
  receiver: WebhookReceiver;
  /** Where the fake sendmail wrote its arguments and stdin. */
  mailDir: string;
  call(method: string, path: string, body?: object): Promise<Pick<ApiResponse, "status" | "json">>;
}

/** A server with a job runner, datastore store1 holding one snapshot, a webhook receiver and a fake sendmail. */
async function setUp(t: ExecutionContext): Promise<Setup> {
  const root = await mkdtemp(join(tmpdir(), "cairn-notify-"));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const sendmailPath = join(root, "sendmail");
  let jobs!: Jobs;
  const server = await startTestServer({
    root,
    extraRoutes: (services) => {
      jobs = createJobs(services, {
        configDir: join(root, "config"),
        stateDir: join(root, "state"),
        sendmailPath,
      });
      return jobs.routes;
    },
  });
  t.teardown(() => server.stop());
  // records what it is given, as a real sendmail would queue it
  await writeFile(
    sendmailPath,
    `#!/bin/sh\nprintf '%s\\n' "$@" > "${root}/mail.args"\ncat > "${root}/mail.txt"\n`,
  );
  await chmod(sendmailPath, 0o755);
  const receiver = await startWebhookReceiver();
  t.teardown(() => receiver.close());
  const store = await addStore(server.configDir, "store1", join(server.root, "store1"));
  await addSnapshot(store, { type: "host", id: "web", time: TIME, owner: "root@pam" });
  const call = async (method: string, path: string, body?: object) => {
    const answer = await api(server.port, method, `/api2/json${path}`, {
      headers: ROOT,
      ...(body !== undefined && { body }),
    });
    return { status: answer.status, json: answer.json };
  };
  return { server, jobs, store, receiver, mailDir: server.root, call };
}

async function configure(setup: Setup, matcher: Record<string, unknown> = {}): Promise<void> {
  const { call, receiver } = setup;
  const hook = await call("POST", "/config/notifications/endpoints/webhook", {
    name: "ops-hook",
    url: receiver.url,
    secret: SECRET,
    header: ["X-Team: storage"],
  });
  const mail = await call("POST", "/config/notifications/endpoints/sendmail", {
    name: "admins",
    mailto: ["ops@example.com", "backup@example.org"],
    "from-address": "cairn@backup.example.com",
  });
  const route = await call("POST", "/config/notifications/matchers", {
    name: "problems",
    target: ["ops-hook", "admins"],
    ...matcher,
  });
  if (hook.status !== 200 || mail.status !== 200 || route.status !== 200) {
    throw new Error(JSON.stringify([hook.json, mail.json, route.json]));
  }
}

/** Runs verify job `id` the way `/admin/verify/{id}/run` does, and waits for it and its notifications. */
async function runVerifyJob(setup: Setup, id: string): Promise<string> {
  const run = await setup.call("POST", `/admin/verify/${id}/run`);
  if (run.status !== 200) throw new Error(JSON.stringify(run.json));
  await setup.jobs.scheduler.idle();
  await setup.jobs.notifier.idle();
  return run.json.data;
}

/** Flips a bit in one chunk of the snapshot; returns the chunk's digest. */
async function corruptChunk(store: Datastore): Promise<string> {
  const digest = encodeChunk(ARCHIVE_DATA[1]!).digest.toString("hex");
  const path = store.chunks.pathOf(digest);
  const bytes = await readFile(path);
  bytes[bytes.length - 5]! ^= 0x40;
  await writeFile(path, bytes);
  return digest;
}

test("a verify job that finds a corrupted chunk notifies the webhook and the mail target with the log excerpt", async (t) => {
  const setup = await setUp(t);
  await configure(setup);
  const digest = await corruptChunk(setup.store);
  t.is(
    (await setup.call("POST", "/config/verify", { id: "nightly", store: "store1" })).status,
    200,
  );

  const upid = await runVerifyJob(setup, "nightly");

  t.is(setup.receiver.received.length, 1);
  const request = setup.receiver.received[0]!;
  t.is(request.method, "POST");
  t.is(request.headers["content-type"], "application/json");
  t.is(request.headers["x-team"], "storage");
  t.is(
    request.headers["x-cairn-signature"],
    `sha256=${createHmac("sha256", SECRET).update(request.body).digest("hex")}`,
  );
  t.false(request.body.includes(SECRET));
  const note = JSON.parse(request.body);
  const snapshot = `host/web/${formatSnapshotTime(TIME)}`;
  t.like(note, {
    severity: "error",
    title: "Verify job 'nightly' on datastore store1 failed",
    fields: { type: "verify", "job-id": "nightly", datastore: "store1" },
    upid,
    result: "verification failed - please check the log for details",
  });
  t.true(
    note.problems.some((line: string) =>
      line.includes(`${snapshot}/root.pxar.didx: chunk ${digest} is corrupt`),
    ),
    JSON.stringify(note.problems),
  );
  t.true(note.log.some((line: string) => line.endsWith(`\t${snapshot}`)));
  t.regex(note.log.at(-1), /TASK ERROR: verification failed/);
  t.regex(note.body, new RegExp(`chunk ${digest} is corrupt`));

  const args = (await readFile(join(setup.mailDir, "mail.args"), "utf8")).split("\n");
  t.deepEqual(args.slice(0, 4), ["-t", "-oi", "-f", "cairn@backup.example.com"]);
  const mail = await readFile(join(setup.mailDir, "mail.txt"), "utf8");
  const [head, ...body] = mail.split("\n\n");
  t.regex(head!, /^To: ops@example.com, backup@example.org$/m);
  t.regex(head!, /^Subject: Verify job 'nightly' on datastore store1 failed$/m);
  t.regex(head!, /^From: Cairn <cairn@backup.example.com>$/m);
  t.regex(body.join("\n\n"), /^Datastore: store1$/m);
  t.regex(body.join("\n\n"), new RegExp(`chunk ${digest} is corrupt`));
  t.false(mail.includes(SECRET));
});

test("a verify started by hand that finds a corrupted chunk notifies like a verify job", async (t) => {
  const setup = await setUp(t);
  await configure(setup);
  const digest = await corruptChunk(setup.store);

  const run = await setup.call("POST", "/admin/datastore/store1/verify", {
    "backup-type": "host",
    "backup-id": "web",
  });
  t.is(run.status, 200, JSON.stringify(run.json));
  const note = JSON.parse((await setup.receiver.nth(1)).body);

  t.like(note, {
    severity: "error",
    title: "Verification of host/web on datastore store1 failed",
    fields: { type: "verify", datastore: "store1" },
    upid: run.json.data,
    result: "verification failed - please check the log for details",
  });
  t.is(note.fields["job-id"], undefined);
  t.true(
    note.problems.some((line: string) => line.includes(`chunk ${digest} is corrupt`)),
    JSON.stringify(note.problems),
  );
  t.regex(note.log.at(-1), /TASK ERROR: verification failed/);
  t.regex(note.body, /^Datastore: store1$/m);
  await setup.jobs.notifier.idle();
  t.is(setup.receiver.received.length, 1);
});

test("a garbage collection started by hand notifies once, as a scheduled one would", async (t) => {
  const setup = await setUp(t);
  await configure(setup, { "match-severity": ["info"], "match-field": ["exact:type=gc"] });

  const run = await setup.call("POST", "/admin/datastore/store1/gc");
  t.is(run.status, 200, JSON.stringify(run.json));
  const note = JSON.parse((await setup.receiver.nth(1)).body);

  t.like(note, {
    severity: "info",
    title: "Garbage collection of datastore store1 succeeded",
    fields: { type: "gc", "job-id": "store1", datastore: "store1" },
    upid: run.json.data,
    result: "OK",
  });
  t.regex(note.log.at(-1), /TASK OK/);
  await setup.jobs.notifier.idle();
  t.is(setup.receiver.received.length, 1);
});

test("a passing job sends nothing by default, and a success notification when the matcher asks for info", async (t) => {
  const setup = await setUp(t);
  await configure(setup);
  t.is(
    (
      await setup.call("POST", "/config/verify", {
        id: "nightly",
        store: "store1",
        "ignore-verified": false,
      })
    ).status,
    200,
  );
  await runVerifyJob(setup, "nightly");
  t.is(setup.receiver.received.length, 0);

  const change = await setup.call("PUT", "/config/notifications/matchers/problems", {
    "match-severity": ["info", "warning", "error"],
    "match-field": ["exact:type=verify,gc"],
  });
  t.is(change.status, 200, JSON.stringify(change.json));
  await runVerifyJob(setup, "nightly");
  t.is(setup.receiver.received.length, 1);
  t.like(JSON.parse(setup.receiver.received[0]!.body), {
    severity: "info",
    title: "Verify job 'nightly' on datastore store1 succeeded",
    result: "OK",
  });
});

test("a webhook that fails does not fail the job; the test endpoint reports it as 502", async (t) => {
  const setup = await setUp(t);
  await configure(setup, { "match-severity": ["info"] });
  setup.receiver.status = 500;
  await setup.call("POST", "/config/verify", { id: "nightly", store: "store1" });
  await runVerifyJob(setup, "nightly");
  t.is(setup.receiver.received.length, 1);
  const listed = await setup.call("GET", "/admin/verify");
  t.is(listed.json.data[0]["last-run-state"], "OK");

  const test502 = await setup.call("POST", "/config/notifications/targets/ops-hook/test");
  t.is(test502.status, 502);
  t.regex(JSON.stringify(test502.json), /CAIRN_E_NOTIFY_DELIVERY_FAILED/);
  t.regex(JSON.stringify(test502.json), /webhook ops-hook: HTTP 500/);
  t.false(JSON.stringify(test502.json).includes(setup.receiver.url));

  setup.receiver.status = 204;
  const ok = await setup.call("POST", "/config/notifications/targets/ops-hook/test");
  t.is(ok.status, 200);
  t.like(JSON.parse(setup.receiver.received.at(-1)!.body), {
    severity: "info",
    fields: { type: "system" },
  });
  const mailTest = await setup.call("POST", "/config/notifications/targets/admins/test");
  t.is(mailTest.status, 200);
  const mail = await readFile(join(setup.mailDir, "mail.txt"), "utf8");
  t.regex(mail, /^Subject: Test notification from /m);
  t.regex(mail, /\n\nThis is a test of the notification target 'admins'\.\n$/);
});

test("the notification configuration is checked, and secrets are never shown", async (t) => {
  const setup = await setUp(t);
  await configure(setup);
  const { call } = setup;
  const shown = await call("GET", "/config/notifications/endpoints/webhook/ops-hook");
  t.is(shown.status, 200);
  t.is(shown.json.data.secret, undefined);
  t.is(shown.json.data.url, setup.receiver.url);
  const list = await call("GET", "/config/notifications/endpoints/webhook");
  t.false(JSON.stringify(list.json).includes(SECRET));
  t.deepEqual((await call("GET", "/config/notifications/targets")).json.data, [
    { name: "admins", type: "sendmail" },
    { name: "ops-hook", type: "webhook" },
  ]);

  const badUrl = await call("POST", "/config/notifications/endpoints/webhook", {
    name: "other",
    url: "ftp://example.com/",
  });
  t.is(badUrl.status, 400);
  t.regex(JSON.stringify(badUrl.json), /url: must be an http:\/\/ or https:\/\/ URL/);
  const badMail = await call("POST", "/config/notifications/endpoints/sendmail", {
    name: "other",
    mailto: ["root@localhost\nBcc: x@example.com"],
  });
  t.is(badMail.status, 400);
  const unknown = await call("POST", "/config/notifications/matchers", {
    name: "other",
    target: ["nobody"],
  });
  t.is(unknown.status, 400);
  t.regex(JSON.stringify(unknown.json), /no target nobody/);
  const badRule = await call("POST", "/config/notifications/matchers", {
    name: "other",
    target: ["admins"],
    "match-field": ["regex:type=("],
  });
  t.is(badRule.status, 400);
  const clash = await call("POST", "/config/notifications/endpoints/sendmail", {
    name: "ops-hook",
    mailto: ["a@example.com"],
  });
  t.is(clash.status, 409);
  const inUse = await call("DELETE", "/config/notifications/endpoints/webhook/ops-hook");
  t.is(inUse.status, 409);
  t.regex(JSON.stringify(inUse.json), /used by matcher problems/);
  t.is((await call("DELETE", "/config/notifications/matchers/problems")).status, 200);
  t.is((await call("DELETE", "/config/notifications/endpoints/webhook/ops-hook")).status, 200);
  t.is((await call("GET", "/config/notifications/endpoints/webhook/ops-hook")).status, 404);
  t.is((await call("POST", "/config/notifications/targets/ops-hook/test")).status, 404);
});
