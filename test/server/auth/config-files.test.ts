import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { AccessControl } from "../../../appliance/server/auth/access-control.js";
import { createToken, createUser } from "../../../appliance/server/auth/accounts.js";
import { changeAcl } from "../../../appliance/server/auth/acl-admin.js";
import { CHEAP_COST, START_MS, tempAccess, tempDir } from "./fixtures.js";

const open = (dir: string) =>
  AccessControl.open(dir, { passwordCost: CHEAP_COST, now: () => START_MS });

async function refusal(t: Parameters<typeof tempDir>[0], file: string, content: string) {
  const dir = tempDir(t);
  writeFileSync(join(dir, file), content);
  const err = await t.throwsAsync(open(dir));
  t.is((err as unknown as { code: string }).code, "CAIRN_E_AUTH_BAD_CONFIG");
  return err!.message;
}

test("a fresh directory gets keys and works with no other files", async (t) => {
  const { access, dir } = await tempAccess(t);
  t.regex(readFileSync(join(dir, "authkey.key"), "utf8"), /^-----BEGIN PRIVATE KEY-----/);
  t.is(statSync(join(dir, "authkey.key")).mode & 0o777, 0o600);
  t.is(statSync(join(dir, "csrf.key")).mode & 0o777, 0o600);
  const users = (await access.config.users.read()).users;
  t.deepEqual([...users.keys()], ["root@pam"], "root@pam is built in");
});

test("tickets stay valid after a restart because the key is kept", async (t) => {
  const { access, dir } = await tempAccess(t);
  await createUser(access.config, "alice@pbs", {}, "alice-secret", CHEAP_COST);
  const { ticket } = await access.authenticator.login("alice@pbs", "alice-secret", "10.0.0.1");
  const again = await open(dir);
  const headers = { cookie: `PBSAuthCookie=${ticket}` };
  t.is(
    (await again.authenticate({ method: "GET", headers, remoteAddress: "x" }))?.authId,
    "alice@pbs",
  );
});

test("changes are written to files that a new process reads back", async (t) => {
  const { access, dir } = await tempAccess(t);
  await createUser(access.config, "alice@pbs", { comment: "Alice" }, "alice-secret", CHEAP_COST);
  await createToken(access.config, "alice@pbs", "backup", {});
  await changeAcl(access.config, {
    path: "/datastore/s1",
    authId: "alice@pbs!backup",
    role: "DatastoreBackup",
    propagate: true,
    delete: false,
  });
  t.is(
    readFileSync(join(dir, "acl.cfg"), "utf8"),
    "acl:1:/datastore/s1:alice@pbs!backup:DatastoreBackup\n",
  );
  const users = JSON.parse(readFileSync(join(dir, "user.json"), "utf8"));
  t.deepEqual(users.users["alice@pbs"], { comment: "Alice", enable: true, expire: 0 });
  t.deepEqual(users.tokens, { "alice@pbs!backup": { enable: true, expire: 0 } });
  t.is(statSync(join(dir, "shadow.json")).mode & 0o777, 0o600);
  const reopened = await open(dir);
  t.is((await reopened.config.acl.read()).length, 1);
});

test("edits by another process are picked up without a restart", async (t) => {
  const { access, dir } = await tempAccess(t);
  t.deepEqual(await access.config.acl.read(), []);
  writeFileSync(join(dir, "acl.cfg"), "acl:1:/:root@pam!x:Audit\n");
  t.is((await access.config.acl.read()).length, 1);
});

test("bad config files are refused naming the file and the problem", async (t) => {
  t.regex(await refusal(t, "user.json", "{"), /^user\.json: .*JSON/);
  t.is(
    await refusal(t, "user.json", '{"users": {"bob@pbs": {"enable": "yes"}}}'),
    'user.json: users["bob@pbs"].enable: Invalid input: expected boolean, received string',
  );
  t.is(
    await refusal(t, "user.json", '{"users": {"bob@pbs": {"enabled": true}}}'),
    'user.json: users["bob@pbs"]: Unrecognized key: "enabled"',
  );
  t.regex(
    await refusal(t, "user.json", '{"users": {"bob": {}}}'),
    /^user\.json: invalid users\["bob"\] "bob"/,
  );
  t.is(
    await refusal(t, "user.json", '{"users": {"bob@ldap": {}}}'),
    'user.json: users["bob@ldap"]: only realm pbs is supported',
  );
  t.is(
    await refusal(t, "user.json", '{"tokens": {"bob@pbs!ci": {}}}'),
    'user.json: tokens["bob@pbs!ci"]: no user bob@pbs',
  );
  t.regex(
    await refusal(t, "shadow.json", '{"bob@pbs": "plain"}'),
    /^shadow\.json: \["bob@pbs"\]: not a hash/,
  );
  t.regex(await refusal(t, "shadow.json", '["x"]'), /^shadow\.json: /);
  t.regex(
    await refusal(t, "token.shadow", '{"bob@pbs": "x"}'),
    /^token\.shadow: \["bob@pbs"\]: expected a token id/,
  );
  t.is(await refusal(t, "acl.cfg", "acl:1:/:u@pbs:God\n"), 'acl.cfg: line 1: unknown role "God"');
  t.regex(await refusal(t, "authkey.key", "not a key"), /^authkey\.key: not a private key in PEM/);
  t.regex(await refusal(t, "csrf.key", "c2hvcnQ="), /^csrf\.key: expected at least 32 bytes/);
});

test("a file that turns bad while running is reported on the next read", async (t) => {
  const { access, dir } = await tempAccess(t);
  writeFileSync(join(dir, "acl.cfg"), "garbage\n");
  await t.throwsAsync(access.config.acl.read(), { message: /^acl\.cfg: line 1: expected acl:/ });
});

test("active auth ids: existing enabled users and tokens of enabled users", async (t) => {
  const { access } = await tempAccess(t);
  await createUser(access.config, "alice@pbs", {}, "alice-secret", CHEAP_COST);
  await createUser(access.config, "bob@pbs", { enable: false }, "bob-secret", CHEAP_COST);
  await createToken(access.config, "alice@pbs", "backup", {});
  await createToken(access.config, "bob@pbs", "backup", {});
  t.true(await access.isActiveAuthId("root@pam"));
  t.true(await access.isActiveAuthId("alice@pbs"));
  t.true(await access.isActiveAuthId("alice@pbs!backup"));
  t.false(await access.isActiveAuthId("ghost@pbs"), "unknown user");
  t.false(await access.isActiveAuthId("alice@pbs!other"), "unknown token");
  t.false(await access.isActiveAuthId("bob@pbs"), "disabled user");
  t.false(await access.isActiveAuthId("bob@pbs!backup"), "token of a disabled user");
});
