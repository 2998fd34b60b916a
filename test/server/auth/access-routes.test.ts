import test from "ava";
import type { AuthInfo, HttpMethod, Route } from "../../../appliance/server/api/route.js";
import type { AccessControl } from "../../../appliance/server/auth/access-control.js";
import { createUser } from "../../../appliance/server/auth/accounts.js";
import { changeAcl } from "../../../appliance/server/auth/acl-admin.js";
import type { RoleName } from "../../../appliance/server/auth/privileges.js";
import { accessRoutes } from "../../../appliance/server/routes/access.js";
import { CHEAP_COST, callRoute, tempAccess, token, user } from "./fixtures.js";

const ROOT = user("root@pam");
const ALICE = user("alice@pbs");
const BOB = user("bob@pbs");

async function setup(t: Parameters<typeof tempAccess>[0]) {
  const env = await tempAccess(t);
  const routes = accessRoutes(env.access);
  const find = (method: HttpMethod, path: string): Route => {
    const route = routes.find((r) => r.method === method && r.path === path);
    if (!route) throw new Error(`no route ${method} ${path}`);
    return route;
  };
  const call = (
    method: HttpMethod,
    path: string,
    auth: AuthInfo | undefined,
    params: Record<string, unknown> = {},
  ) => callRoute(env.access, find(method, path), auth, params);
  const grant = (authId: string, path: string, role: RoleName, propagate = true) =>
    changeAcl(env.access.config, { path, authId, role, propagate, delete: false });
  await createUser(env.access.config, "alice@pbs", {}, "alice-secret", CHEAP_COST);
  await createUser(env.access.config, "bob@pbs", {}, "bob-secret", CHEAP_COST);
  return { ...env, routes, call, grant };
}

const status = (err: unknown) => (err as { httpStatus?: number }).httpStatus;

async function loginWorks(access: AccessControl, username: string, password: string) {
  try {
    await access.authenticator.login(username, password, "203.0.113.99");
    return true;
  } catch {
    return false;
  }
}

test("the access routes cover the PBS endpoints once each", async (t) => {
  const { routes } = await setup(t);
  const keys = routes.map((r) => `${r.method} ${r.path}`);
  t.deepEqual([...keys].sort(), [
    "DELETE /access/users/{userid}",
    "DELETE /access/users/{userid}/token/{token-name}",
    "GET /access/acl",
    "GET /access/permissions",
    "GET /access/users",
    "GET /access/users/{userid}",
    "GET /access/users/{userid}/token",
    "GET /access/users/{userid}/token/{token-name}",
    "POST /access/ticket",
    "POST /access/users",
    "POST /access/users/{userid}/token/{token-name}",
    "PUT /access/acl",
    "PUT /access/password",
    "PUT /access/users/{userid}",
    "PUT /access/users/{userid}/token/{token-name}",
  ]);
});

test("POST /access/ticket logs in, and validates its parameters", async (t) => {
  const { call } = await setup(t);
  const result = (await call("POST", "/access/ticket", undefined, {
    username: "alice@pbs",
    password: "alice-secret",
  })) as Record<string, string>;
  t.deepEqual(Object.keys(result), ["username", "ticket", "CSRFPreventionToken"]);
  t.is(result.username, "alice@pbs");
  const wrong = await t.throwsAsync(
    call("POST", "/access/ticket", undefined, { username: "alice@pbs", password: "x" }),
  );
  t.is(status(wrong), 401);
  await t.throwsAsync(call("POST", "/access/ticket", undefined, { username: "alice@pbs" }), {
    name: "ZodError",
  });
  const tfa = await t.throwsAsync(
    call("POST", "/access/ticket", undefined, {
      username: "alice@pbs",
      password: "x",
      "tfa-challenge": "c",
    }),
  );
  t.is(status(tfa), 400);
});

test("PUT /access/password: self yes, others only with Permissions.Modify, tokens never", async (t) => {
  const { access, call, grant } = await setup(t);
  await call("PUT", "/access/password", ALICE, { userid: "alice@pbs", password: "new-alice-pw" });
  t.true(await loginWorks(access, "alice@pbs", "new-alice-pw"));
  t.false(await loginWorks(access, "alice@pbs", "alice-secret"));
  const denied = await t.throwsAsync(
    call("PUT", "/access/password", ALICE, { userid: "bob@pbs", password: "hijacked!" }),
  );
  t.is(status(denied), 403);
  t.regex(denied!.message, /needs Permissions.Modify on \/access\/users/);
  await grant("alice@pbs", "/access/users", "Admin");
  await call("PUT", "/access/password", ALICE, { userid: "bob@pbs", password: "reset-by-alice" });
  t.true(await loginWorks(access, "bob@pbs", "reset-by-alice"));
  await t.throwsAsync(
    call("PUT", "/access/password", ALICE, { userid: "root@pam", password: "takeover!" }),
    {
      message: /only root@pam itself may/,
    },
  );
  await t.throwsAsync(
    call("PUT", "/access/password", token("alice@pbs", "tok"), {
      userid: "alice@pbs",
      password: "via-token",
    }),
    {
      message: "API tokens can't change passwords",
    },
  );
  await t.throwsAsync(
    call("PUT", "/access/password", ALICE, { userid: "alice@pbs", password: "short" }),
    {
      name: "ZodError",
    },
  );
  await call("PUT", "/access/password", ROOT, { userid: "root@pam", password: "root-password" });
  t.true(await loginWorks(access, "root@pam", "root-password"));
});

test("GET /access/permissions: own, own tokens', or anyone's with Sys.Audit on /access", async (t) => {
  const { call, grant } = await setup(t);
  await grant("alice@pbs", "/datastore/s1", "DatastoreReader", false);
  t.deepEqual(await call("GET", "/access/permissions", ALICE, {}), {
    "/datastore/s1": {
      "Datastore.Audit": false,
      "Datastore.Read": false,
      "Datastore.Verify": false,
    },
  });
  t.deepEqual(
    await call("GET", "/access/permissions", ALICE, {
      "auth-id": "alice@pbs!tok",
      path: "/datastore/s1",
    }),
    {},
  );
  const denied = await t.throwsAsync(
    call("GET", "/access/permissions", BOB, { "auth-id": "alice@pbs" }),
  );
  t.is(status(denied), 403);
  await grant("bob@pbs", "/access", "Audit");
  t.deepEqual(
    Object.keys(
      (await call("GET", "/access/permissions", BOB, { "auth-id": "alice@pbs" })) as object,
    ),
    ["/datastore/s1"],
  );
  await t.throwsAsync(call("GET", "/access/permissions", ALICE, { path: "/nowhere" }), {
    name: "ZodError",
  });
});

test("PUT /access/acl: Permissions.Modify for everything, else only one's own tokens", async (t) => {
  const { call } = await setup(t);
  await call("PUT", "/access/acl", ROOT, {
    path: "/datastore/s1",
    role: "DatastoreBackup",
    "auth-id": "alice@pbs",
  });
  await call("POST", "/access/users/{userid}/token/{token-name}", ALICE, {
    userid: "alice@pbs",
    "token-name": "ci-job",
  });
  await call("PUT", "/access/acl", ALICE, {
    path: "/datastore/s1/ns",
    role: "DatastoreBackup",
    "auth-id": "alice@pbs!ci-job",
    propagate: "0",
  });
  const other = await t.throwsAsync(
    call("PUT", "/access/acl", ALICE, { path: "/", role: "Admin", "auth-id": "alice@pbs" }),
  );
  t.is(status(other), 403);
  await t.throwsAsync(
    call("PUT", "/access/acl", ALICE, { path: "/", role: "Admin", "auth-id": "bob@pbs" }),
    {
      message: /only change the ACL of its own API tokens/,
    },
  );
  const group = await t.throwsAsync(
    call("PUT", "/access/acl", ROOT, { path: "/", role: "Admin", group: "admins" }),
  );
  t.is(status(group), 400);
  await t.throwsAsync(
    call("PUT", "/access/acl", ROOT, { path: "/", role: "Admin", "auth-id": "ghost@pbs" }),
    {
      message: "no user ghost@pbs",
    },
  );
  await t.throwsAsync(
    call("PUT", "/access/acl", ROOT, { path: "/", role: "Wizard", "auth-id": "bob@pbs" }),
    {
      name: "ZodError",
    },
  );

  t.deepEqual(await call("GET", "/access/acl", ROOT, { path: "/datastore/s1" }), [
    {
      path: "/datastore/s1",
      ugid: "alice@pbs",
      ugid_type: "user",
      propagate: true,
      roleid: "DatastoreBackup",
    },
    {
      path: "/datastore/s1/ns",
      ugid: "alice@pbs!ci-job",
      ugid_type: "user",
      propagate: false,
      roleid: "DatastoreBackup",
    },
  ]);
  t.is(
    ((await call("GET", "/access/acl", ROOT, { path: "/datastore/s1", exact: "1" })) as unknown[])
      .length,
    1,
  );
  t.deepEqual(
    ((await call("GET", "/access/acl", ALICE, {})) as Array<{ ugid: string }>).map((e) => e.ugid),
    ["alice@pbs!ci-job"],
    "without Sys.Audit only the caller's tokens",
  );
  await call("PUT", "/access/acl", ROOT, {
    path: "/datastore/s1",
    role: "DatastoreBackup",
    "auth-id": "alice@pbs",
    delete: true,
  });
  t.is(((await call("GET", "/access/acl", ROOT, {})) as unknown[]).length, 1);
});

test("users: create and change need Permissions.Modify; listing shows what one may see", async (t) => {
  const { access, call, grant } = await setup(t);
  const denied = await t.throwsAsync(call("POST", "/access/users", ALICE, { userid: "carol@pbs" }));
  t.is(status(denied), 403);
  t.regex(denied!.message, /lacks Permissions.Modify on \/access\/users/);
  await call("POST", "/access/users", ROOT, {
    userid: "carol@pbs",
    password: "carol-secret",
    comment: "Carol",
    expire: "0",
    enable: "yes",
  });
  t.true(await loginWorks(access, "carol@pbs", "carol-secret"));
  await t.throwsAsync(call("POST", "/access/users", ROOT, { userid: "carol@pbs" }), {
    message: "user carol@pbs already exists",
  });
  await t.throwsAsync(call("POST", "/access/users", ROOT, { userid: "dave@ldap" }), {
    message: /only be added to realm pbs/,
  });
  await t.throwsAsync(
    call("POST", "/access/users", ROOT, { userid: "eve@pbs", comment: "two\nlines" }),
    { name: "ZodError" },
  );

  t.deepEqual(await call("GET", "/access/users", ALICE, {}), [
    { userid: "alice@pbs", enable: true, expire: 0 },
  ]);
  t.deepEqual(await call("GET", "/access/users", token("bob@pbs", "tok"), {}), [
    { userid: "bob@pbs", enable: true, expire: 0 },
  ]);
  await grant("alice@pbs", "/access/users", "Audit");
  const all = (await call("GET", "/access/users", ALICE, {})) as Array<{ userid: string }>;
  t.deepEqual(
    all.map((u) => u.userid),
    ["alice@pbs", "bob@pbs", "carol@pbs", "root@pam"],
  );
  t.deepEqual(await call("GET", "/access/users/{userid}", ALICE, { userid: "carol@pbs" }), {
    userid: "carol@pbs",
    enable: true,
    expire: 0,
    comment: "Carol",
  });
  t.is(
    status(
      await t.throwsAsync(call("GET", "/access/users/{userid}", BOB, { userid: "carol@pbs" })),
    ),
    403,
  );

  await call("PUT", "/access/users/{userid}", ROOT, {
    userid: "carol@pbs",
    email: "c@example.org",
    delete: "comment",
  });
  t.deepEqual(await call("GET", "/access/users/{userid}", ROOT, { userid: "carol@pbs" }), {
    userid: "carol@pbs",
    enable: true,
    expire: 0,
    email: "c@example.org",
  });
  await t.throwsAsync(
    call("PUT", "/access/users/{userid}", ROOT, { userid: "ghost@pbs", comment: "x" }),
    {
      message: "no user ghost@pbs",
    },
  );
});

test("root@pam can't be removed, disabled, or changed by anyone else", async (t) => {
  const { call, grant } = await setup(t);
  await grant("alice@pbs", "/", "Admin");
  await t.throwsAsync(
    call("PUT", "/access/users/{userid}", ALICE, { userid: "root@pam", comment: "mine" }),
    {
      message: "only root@pam may change root@pam",
    },
  );
  await t.throwsAsync(
    call("PUT", "/access/users/{userid}", ROOT, { userid: "root@pam", enable: false }),
    {
      message: "root@pam can't be disabled or expire",
    },
  );
  await t.throwsAsync(call("DELETE", "/access/users/{userid}", ROOT, { userid: "root@pam" }), {
    message: "root@pam can't be removed",
  });
  await call("PUT", "/access/users/{userid}", ROOT, { userid: "root@pam", comment: "The admin" });
  t.like(await call("GET", "/access/users/{userid}", ROOT, { userid: "root@pam" }), {
    comment: "The admin",
  });
});

test("deleting a user removes its tokens, their secrets and all their ACL entries", async (t) => {
  const { access, call } = await setup(t);
  const { value } = (await call("POST", "/access/users/{userid}/token/{token-name}", ROOT, {
    userid: "bob@pbs",
    "token-name": "nightly",
  })) as { value: string };
  await call("PUT", "/access/acl", ROOT, { path: "/", role: "Audit", "auth-id": "bob@pbs" });
  await call("PUT", "/access/acl", ROOT, {
    path: "/",
    role: "Audit",
    "auth-id": "bob@pbs!nightly",
  });
  await call("DELETE", "/access/users/{userid}", ROOT, { userid: "bob@pbs" });
  t.false((await access.config.users.read()).users.has("bob@pbs"));
  t.is((await access.config.users.read()).tokens.size, 0);
  t.is((await access.config.tokenSecrets.read()).size, 0);
  t.deepEqual(await access.config.acl.read(), []);
  await t.throwsAsync(
    access.authenticate({
      method: "GET",
      headers: { authorization: `PBSAPIToken=bob@pbs!nightly:${value}` },
      remoteAddress: "x",
    }),
    { message: "unknown API token bob@pbs!nightly" },
  );
});

test("tokens: the secret is returned once; owners manage their own, others need Permissions.Modify", async (t) => {
  const { access, call } = await setup(t);
  const created = (await call("POST", "/access/users/{userid}/token/{token-name}", ALICE, {
    userid: "alice@pbs",
    "token-name": "backup",
    comment: "host1",
  })) as { tokenid: string; value: string };
  t.is(created.tokenid, "alice@pbs!backup");
  t.regex(created.value, /^[0-9a-f-]{36}$/);
  const auth = await access.authenticate({
    method: "POST",
    headers: { authorization: `PBSAPIToken=${created.tokenid}:${created.value}` },
    remoteAddress: "x",
  });
  t.is(auth?.authId, "alice@pbs!backup");

  const shown = await call("GET", "/access/users/{userid}/token/{token-name}", ALICE, {
    userid: "alice@pbs",
    "token-name": "backup",
  });
  t.deepEqual(shown, {
    tokenid: "alice@pbs!backup",
    "token-name": "backup",
    enable: true,
    expire: 0,
    comment: "host1",
  });
  t.false(
    JSON.stringify(
      await call("GET", "/access/users/{userid}/token", ALICE, { userid: "alice@pbs" }),
    ).includes(created.value),
  );
  t.like(await call("GET", "/access/users", ALICE, { include_tokens: "true" }), [
    { userid: "alice@pbs", tokens: [{ tokenid: "alice@pbs!backup" }] },
  ]);

  await t.throwsAsync(
    call("POST", "/access/users/{userid}/token/{token-name}", ALICE, {
      userid: "alice@pbs",
      "token-name": "backup",
    }),
    { message: "token alice@pbs!backup already exists" },
  );
  const foreign = await t.throwsAsync(
    call("POST", "/access/users/{userid}/token/{token-name}", BOB, {
      userid: "alice@pbs",
      "token-name": "evil",
    }),
  );
  t.is(status(foreign), 403);
  t.is(
    status(
      await t.throwsAsync(
        call("GET", "/access/users/{userid}/token", BOB, { userid: "alice@pbs" }),
      ),
    ),
    403,
  );
  const byToken = await t.throwsAsync(
    call("POST", "/access/users/{userid}/token/{token-name}", token("alice@pbs", "backup"), {
      userid: "alice@pbs",
      "token-name": "more",
    }),
  );
  t.is(status(byToken), 403, "a token is not its user");

  await call("PUT", "/access/users/{userid}/token/{token-name}", ALICE, {
    userid: "alice@pbs",
    "token-name": "backup",
    enable: "0",
    delete: ["comment"],
  });
  t.deepEqual(
    await call("GET", "/access/users/{userid}/token/{token-name}", ALICE, {
      userid: "alice@pbs",
      "token-name": "backup",
    }),
    { tokenid: "alice@pbs!backup", "token-name": "backup", enable: false, expire: 0 },
  );
  await call("DELETE", "/access/users/{userid}/token/{token-name}", ALICE, {
    userid: "alice@pbs",
    "token-name": "backup",
  });
  t.deepEqual(
    await call("GET", "/access/users/{userid}/token", ALICE, { userid: "alice@pbs" }),
    [],
  );
  await t.throwsAsync(
    call("POST", "/access/users/{userid}/token/{token-name}", ALICE, {
      userid: "alice@pbs",
      "token-name": "x",
    }),
    { name: "ZodError" },
  );
});
