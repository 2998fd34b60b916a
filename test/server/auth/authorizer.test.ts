import test from "ava";
import { createToken, createUser } from "../../../appliance/server/auth/accounts.js";
import { changeAcl } from "../../../appliance/server/auth/acl-admin.js";
import { mayUseGroup } from "../../../appliance/server/auth/ownership.js";
import type { RoleName } from "../../../appliance/server/auth/privileges.js";
import { tempAccess, token, user } from "./fixtures.js";

async function setup(t: Parameters<typeof tempAccess>[0]) {
  const env = await tempAccess(t);
  const grant = (authId: string, path: string, role: RoleName, propagate = true) =>
    changeAcl(env.access.config, { path, authId, role, propagate, delete: false });
  await createUser(env.access.config, "alice@pbs", {});
  await createToken(env.access.config, "alice@pbs", "backup", {});
  await grant("alice@pbs", "/datastore/store1", "DatastoreBackup");
  await grant("alice@pbs!backup", "/datastore/store1", "DatastoreAdmin");
  return { ...env, grant };
}

const backupRoute = {
  kind: "privileges",
  path: "/datastore/{store}/{ns}",
  privileges: ["Datastore.Backup"],
} as const;

test("checkPermission lets through who holds the privileges on the filled path", async (t) => {
  const { access } = await setup(t);
  await t.notThrowsAsync(
    access.checkPermission(user("alice@pbs"), backupRoute, { store: "store1" }),
  );
  await t.notThrowsAsync(
    access.checkPermission(user("alice@pbs"), backupRoute, { store: "store1", ns: "a/b" }),
  );
  await t.notThrowsAsync(access.checkPermission(user("root@pam"), backupRoute, { store: "any" }));
});

test("a refusal is 403 and names the missing privilege and the path", async (t) => {
  const { access } = await setup(t);
  const err = await t.throwsAsync(
    access.checkPermission(user("alice@pbs"), backupRoute, { store: "store2", ns: "x" }),
  );
  t.is(
    err?.message,
    "permission check failed - alice@pbs lacks Datastore.Backup on /datastore/store2/x",
  );
  t.is((err as unknown as { httpStatus: number }).httpStatus, 403);
  const both = { ...backupRoute, privileges: ["Datastore.Backup", "Datastore.Prune"] };
  await t.throwsAsync(access.checkPermission(user("alice@pbs"), both, { store: "store1" }), {
    message: "permission check failed - alice@pbs lacks Datastore.Prune on /datastore/store1",
  });
  const either = { ...both, privileges: ["Datastore.Audit", "Datastore.Read"], any: true };
  await t.throwsAsync(access.checkPermission(user("alice@pbs"), either, { store: "store1" }), {
    message: /lacks any of Datastore.Audit, Datastore.Read on \/datastore\/store1$/,
  });
  await t.notThrowsAsync(
    access.checkPermission(
      user("alice@pbs"),
      { ...either, privileges: ["Datastore.Audit", "Datastore.Backup"] },
      { store: "store1" },
    ),
  );
});

test("a token is limited by its user even where its own ACL grants more", async (t) => {
  const { access } = await setup(t);
  const ci = token("alice@pbs", "backup");
  await t.notThrowsAsync(access.checkPermission(ci, backupRoute, { store: "store1" }));
  const prune = { ...backupRoute, privileges: ["Datastore.Prune"] };
  await t.throwsAsync(access.checkPermission(ci, prune, { store: "store1" }), {
    message:
      "permission check failed - alice@pbs!backup lacks Datastore.Prune on /datastore/store1",
  });
  t.true(
    await access.authorizer.hasPrivilege(
      "alice@pbs!backup",
      "/datastore/store1",
      "Datastore.Backup",
    ),
  );
  t.false(
    await access.authorizer.hasPrivilege(
      "alice@pbs!backup",
      "/datastore/store1",
      "Datastore.Modify",
    ),
  );
});

test("anybody routes need no caller; the others answer 401 without one", async (t) => {
  const { access } = await setup(t);
  await t.notThrowsAsync(access.checkPermission(undefined, { kind: "anybody" }, {}));
  for (const permission of [{ kind: "authenticated" } as const, backupRoute]) {
    const err = await t.throwsAsync(
      access.checkPermission(undefined, permission, { store: "store1" }),
    );
    t.is((err as unknown as { httpStatus: number }).httpStatus, 401);
  }
  await t.notThrowsAsync(access.checkPermission(user("nobody@pbs"), { kind: "authenticated" }, {}));
});

test("the permissions report lists paths with privileges and whether they propagate", async (t) => {
  const { access, grant } = await setup(t);
  await grant("alice@pbs", "/system/status", "Audit", false);
  t.deepEqual(await access.authorizer.permissionsReport("alice@pbs"), {
    "/datastore/store1": { "Datastore.Backup": true },
    "/system/status": { "Sys.Audit": false, "Datastore.Audit": false },
  });
  t.deepEqual(await access.authorizer.permissionsReport("alice@pbs", "/datastore/store1/ns"), {
    "/datastore/store1/ns": { "Datastore.Backup": true },
  });
  t.deepEqual(await access.authorizer.permissionsReport("alice@pbs", "/datastore/store2"), {});
  const root = await access.authorizer.permissionsReport("root@pam");
  t.deepEqual(Object.keys(root), [
    "/",
    "/access",
    "/datastore",
    "/datastore/store1",
    "/remote",
    "/system",
    "/system/status",
  ]);
  t.is(Object.keys(root["/"]!).length, 20);
});

test("a user may use its own groups and its tokens'; a token only its own", (t) => {
  const alice = user("alice@pbs");
  const ci = token("alice@pbs", "ci");
  t.true(mayUseGroup(alice, "alice@pbs"));
  t.true(mayUseGroup(alice, "alice@pbs!ci"));
  t.false(mayUseGroup(alice, "bob@pbs"));
  t.false(mayUseGroup(alice, "bob@pbs!ci"));
  t.false(mayUseGroup(alice, "alice@pbsx!ci"));
  t.true(mayUseGroup(ci, "alice@pbs!ci"));
  t.false(mayUseGroup(ci, "alice@pbs"));
  t.false(mayUseGroup(ci, "alice@pbs!other"));
  t.false(mayUseGroup(user("root@pam"), "alice@pbs"), "ownership is not a privilege");
});
