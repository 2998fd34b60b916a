import test from "ava";
import { BackupWriterClient } from "../../appliance/protocol/client/backup-writer-client.js";
import { ReaderClient } from "../../appliance/protocol/client/reader-client.js";
import { certificateFingerprint } from "../../appliance/protocol/client/tls-connect.js";
import type { ProtocolError } from "../../appliance/protocol/errors.js";
import { MANIFEST, writeBackup } from "./fixtures/backup-flow.js";
import { MiB, sampleContent } from "./fixtures/content.js";
import { eventually, PASSWORD, STORE, startTestServer } from "./fixtures/server.js";
import { T0 } from "./fixtures/sessions.js";

const SNAPSHOT = { type: "vm" as const, id: "100", time: T0 };
const TARGET = { store: STORE, ...SNAPSHOT };

async function refusal(t: Parameters<typeof startTestServer>[0], promise: Promise<unknown>) {
  const err = (await t.throwsAsync(promise)) as ProtocolError;
  t.is(err.kind, "remote-error", err.message);
  return err;
}

test("a ticket with its CSRF token opens a backup session as well as an API token", async (t) => {
  const env = await startTestServer(t);
  const { userId } = await env.user("backup", "DatastoreBackup");
  const login = await env.access.authenticator.login(userId, PASSWORD, "127.0.0.1");
  const credentials = {
    kind: "ticket" as const,
    ticket: login.ticket,
    csrfToken: login.CSRFPreventionToken,
  };
  const writer = await BackupWriterClient.start(env.address(credentials), TARGET);
  await writeBackup(writer, SNAPSHOT, sampleContent("ticket", MiB));
  t.is(await env.store.getOwner([], "vm", "100"), userId);
});

test("bad credentials are refused with 401, missing privileges with 403", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const { token: readerToken } = await env.user("auditor", "DatastoreReader");
  const forged = { ...token, secret: "00000000-0000-0000-0000-000000000000" };
  const bad = await refusal(t, BackupWriterClient.start(env.address(forged), TARGET));
  t.is(bad.httpStatus, 401);
  const denied = await refusal(t, BackupWriterClient.start(env.address(readerToken), TARGET));
  t.is(denied.httpStatus, 403);
  t.regex(denied.message, /lacks Datastore\.Backup on \/datastore\/store1/);
  t.deepEqual(await env.store.listGroups([]), []);
});

test("a group belongs to who made it: others with Datastore.Backup can neither add to it nor read it", async (t) => {
  const env = await startTestServer(t);
  const owner = await env.user("owner", "DatastoreBackup");
  const stranger = await env.user("stranger", "DatastoreBackup");
  const auditor = await env.user("auditor", "DatastoreReader");
  await writeBackup(
    await BackupWriterClient.start(env.address(owner.token), TARGET),
    SNAPSHOT,
    sampleContent("owned", MiB),
  );
  t.is(await env.store.getOwner([], "vm", "100"), (owner.token as { tokenId: string }).tokenId);

  const write = await refusal(
    t,
    BackupWriterClient.start(env.address(stranger.token), { ...TARGET, time: T0 + 1 }),
  );
  t.is(write.httpStatus, 403);
  t.regex(write.message, /belongs to owner@pbs!client/);
  const read = await refusal(t, ReaderClient.start(env.address(stranger.token), TARGET));
  t.is(read.httpStatus, 403);
  t.regex(read.message, /does not own the group/);

  // Datastore.Read reads any group; a user reads the groups of its own tokens
  const login = await env.access.authenticator.login(owner.userId, PASSWORD, "127.0.0.1");
  const ownerTicket = { kind: "ticket" as const, ticket: login.ticket };
  for (const credentials of [auditor.token, owner.token, ownerTicket]) {
    const reader = await ReaderClient.start(env.address(credentials), TARGET);
    t.true((await reader.download(MANIFEST)).length > 0);
    await reader.close();
  }
  const readers = await env.server.tasks.list({ typefilter: "reader" }, 0, 0);
  t.is(readers.total, 3);
  t.is(readers.items[0]!.worker_id, `${STORE}:vm/100/${T0.toString(16).toUpperCase()}`);
});

test("backup times must increase, and a reader needs a finished snapshot", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  await writeBackup(
    await BackupWriterClient.start(env.address(token), TARGET),
    SNAPSHOT,
    sampleContent("first", MiB),
  );
  const older = await refusal(
    t,
    BackupWriterClient.start(env.address(token), { ...TARGET, time: T0 - 1 }),
  );
  t.is(older.httpStatus, 409);
  t.regex(older.message, /is not newer than the last backup/);
  const missing = await refusal(
    t,
    ReaderClient.start(env.address(token), { ...TARGET, time: T0 + 5 }),
  );
  t.is(missing.httpStatus, 404);
});

test("upgrade parameters are validated and benchmark is tied to host/benchmark", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const cases: [Parameters<typeof BackupWriterClient.start>[1], RegExp][] = [
    [{ ...TARGET, type: "vmx" as "vm" }, /backup-type: must be one of ct, host, vm/],
    [{ ...TARGET, id: "../etc" }, /backup-id: /],
    [{ ...TARGET, time: 0 }, /backup-time: must be a whole number from 1/],
    [{ ...TARGET, ns: "a//b" }, /ns: /],
    [{ ...TARGET, benchmark: true }, /benchmark is only allowed on the group host\/benchmark/],
    [{ ...TARGET, type: "host", id: "benchmark" }, /only for benchmarks/],
  ];
  for (const [target, message] of cases) {
    const err = await refusal(t, BackupWriterClient.start(env.address(token), target));
    t.is(err.httpStatus, 400, err.message);
    t.regex(err.message, message);
  }
  t.deepEqual(await env.store.listGroups([]), []);
});

test("backups go into existing namespaces only", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const missing = await refusal(
    t,
    BackupWriterClient.start(env.address(token), { ...TARGET, ns: "team" }),
  );
  t.is(missing.httpStatus, 404);
  await env.store.createNamespace(["team"]);
  const writer = await BackupWriterClient.start(env.address(token), { ...TARGET, ns: "team" });
  await writeBackup(writer, SNAPSHOT, sampleContent("ns", MiB));
  t.is((await env.store.listSnapshots(["team"], { type: "vm", id: "100" }))[0]?.finished, true);
  const reader = await ReaderClient.start(env.address(token), { ...TARGET, ns: "team" });
  t.true((await reader.download(MANIFEST)).length > 0);
  await reader.close();
});

test("the client trusts an unverifiable certificate only by its fingerprint or the confirm hook", async (t) => {
  const env = await startTestServer(t);
  const { token } = await env.user("backup", "DatastoreBackup");
  const wrong = "00:".repeat(31) + "00";
  const address = { ...env.address(token), trust: { fingerprint: wrong } };
  const err = (await t.throwsAsync(BackupWriterClient.start(address, TARGET))) as ProtocolError;
  t.is(err.kind, "untrusted-server");
  t.regex(err.message, new RegExp(env.server.certificate.fingerprint));

  const seen: string[] = [];
  const confirming = {
    ...env.address(token),
    trust: {
      confirm: (fingerprint: string) => {
        seen.push(fingerprint);
        return true;
      },
    },
  };
  const writer = await BackupWriterClient.start(confirming, TARGET);
  t.deepEqual(seen, [env.server.certificate.fingerprint]);
  await writer.close();
  t.true(
    await eventually(
      async () => (await env.store.listSnapshots([], { type: "vm", id: "100" })).length === 0,
    ),
  );
  const der = Buffer.from(env.server.certificate.pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  t.is(certificateFingerprint(der), env.server.certificate.fingerprint);
});
