import { join } from "node:path";
import test from "ava";
import { api } from "../server/helpers/client.js";
import { addStore } from "../server/helpers/snapshots.js";
import { type RunningDaemon, startDaemon, tableCells } from "./manager-daemon.js";

let daemon: RunningDaemon;
let secret = "";

test.before(async () => {
  daemon = await startDaemon({
    prepare: async ({ root, configDir }) => {
      await addStore(configDir, "store1", join(root, "store1"));
    },
  });
});

test.after.always(async () => {
  await daemon?.stop();
  await daemon?.remove();
});

const run = (args: string[], env?: NodeJS.ProcessEnv) => {
  const result = daemon.manager(args, env);
  if (result.status !== 0) throw new Error(`${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
};
const json = (args: string[]) => JSON.parse(run([...args, "--output-format", "json"]));

function login(password: string) {
  return api(daemon.port, "POST", "/api2/json/access/ticket", {
    body: { username: "alice@pbs", password },
  });
}

function listStoresAs(tokenid: string, value: string) {
  return api(daemon.port, "GET", "/api2/json/admin/datastore", {
    headers: { authorization: `PBSAPIToken=${tokenid}:${value}` },
  });
}

test.serial(
  "user create takes the password from the environment, and the user can log in",
  async (t) => {
    run(
      [
        "user",
        "create",
        "alice@pbs",
        "--password",
        "--email",
        "alice@example.com",
        "--firstname",
        "Alice",
      ],
      {
        CAIRN_NEW_PASSWORD: "first-password",
      },
    );
    t.deepEqual(tableCells(run(["user", "list"])), [
      ["userid", "enable", "expire", "name", "email", "comment"],
      ["---------", "------", "------", "-----", "-----------------", "---------"],
      ["alice@pbs", "yes", "never", "Alice", "alice@example.com", "-"],
      ["root@pam", "yes", "never", "-", "-", "Superuser"],
    ]);
    t.like(json(["user", "list"])[0], {
      userid: "alice@pbs",
      email: "alice@example.com",
      enable: true,
    });
    t.is((await login("first-password")).status, 200);
  },
);

test.serial("user update and passwd change the record and the password", async (t) => {
  run([
    "user",
    "update",
    "alice@pbs",
    "--comment",
    "backup operator",
    "--delete",
    "email",
    "--expire",
    "2100-01-01",
  ]);
  const [alice] = json(["user", "list"]);
  t.is(alice.comment, "backup operator");
  t.is(alice.email, undefined);
  t.is(alice.expire, Date.UTC(2100, 0, 1) / 1000);
  run(["user", "passwd", "alice@pbs", "--password", "second-password"]);
  t.is((await login("second-password")).status, 200);
  t.is((await login("first-password")).status, 401);
});

test.serial(
  "user token create prints the secret once, and the token works over HTTPS",
  async (t) => {
    const out = run(["user", "token", "create", "alice@pbs", "backup", "--comment", "nightly"]);
    const fields = Object.fromEntries(tableCells(out).map(([label, value]) => [label, value]));
    t.is(fields["tokenid:"], "alice@pbs!backup");
    secret = fields["secret:"] ?? "";
    t.regex(secret, /^[0-9a-f-]{36}$/);
    const listed = run(["user", "token", "list", "alice@pbs"]);
    t.false(listed.includes(secret));
    t.deepEqual(tableCells(listed)[2], ["alice@pbs!backup", "yes", "never", "nightly"]);

    const before = await listStoresAs("alice@pbs!backup", secret);
    t.is(before.status, 200);
    t.deepEqual(before.json.data, []);
    for (const authId of ["alice@pbs", "alice@pbs!backup"]) {
      run(["acl", "update", "/datastore/store1", "DatastoreAudit", "--auth-id", authId]);
    }
    t.deepEqual((await listStoresAs("alice@pbs!backup", secret)).json.data, [{ store: "store1" }]);
  },
);

test.serial("acl list shows the entries as a table and as JSON; --delete revokes", (t) => {
  t.deepEqual(tableCells(run(["acl", "list"])), [
    ["path", "ugid", "roleid", "propagate"],
    ["-----------------", "----------------", "--------------", "---------"],
    ["/datastore/store1", "alice@pbs", "DatastoreAudit", "yes"],
    ["/datastore/store1", "alice@pbs!backup", "DatastoreAudit", "yes"],
  ]);
  run([
    "acl",
    "update",
    "/datastore/store1",
    "DatastoreAudit",
    "--auth-id",
    "alice@pbs",
    "--propagate",
    "false",
  ]);
  run([
    "acl",
    "update",
    "/datastore/store1",
    "DatastoreAudit",
    "--auth-id",
    "alice@pbs!backup",
    "--delete",
  ]);
  t.deepEqual(json(["acl", "list", "--path", "/datastore"]), [
    {
      path: "/datastore/store1",
      ugid: "alice@pbs",
      ugid_type: "user",
      propagate: false,
      roleid: "DatastoreAudit",
    },
  ]);
});

test.serial("token remove and user remove take away access", async (t) => {
  run(["user", "token", "remove", "alice@pbs", "backup"]);
  t.is((await listStoresAs("alice@pbs!backup", secret)).status, 401);
  t.deepEqual(json(["user", "token", "list", "alice@pbs"]), []);
  run(["user", "remove", "alice@pbs"]);
  t.deepEqual(
    json(["user", "list"]).map((user: { userid: string }) => user.userid),
    ["root@pam"],
  );
  t.deepEqual(json(["acl", "list"]), []);
});

test.serial("a refused change prints the API's message and exits 1", (t) => {
  const bad = daemon.manager(["user", "create", "nobody"]);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /^cairn-manager: parameter verification failed - userid: .+\n$/);
  const noPassword = daemon.manager(["user", "passwd", "root@pam"]);
  t.is(noPassword.status, 1);
  t.regex(noPassword.stderr, /no password: pass --password, set CAIRN_NEW_PASSWORD/);
});
