import test from "ava";
import {
  type AclEntry,
  grantRole,
  privilegesAt,
  removeAuthId,
  revokeRole,
  rolesAt,
} from "../../../appliance/server/auth/acl.js";
import { parseAclPath } from "../../../appliance/server/auth/acl-path.js";
import {
  PRIVILEGE_NAMES,
  type PrivilegeName,
  privilegeNames,
  ROLE_NAMES,
  type RoleName,
} from "../../../appliance/server/auth/privileges.js";

/** §13 of the format notes, written out again so a wrong role table fails here. */
const EXPECTED: Record<string, readonly PrivilegeName[]> = {
  Admin: PRIVILEGE_NAMES,
  Audit: ["Sys.Audit", "Datastore.Audit"],
  NoAccess: [],
  DatastoreAdmin: [
    "Datastore.Audit",
    "Datastore.Modify",
    "Datastore.Read",
    "Datastore.Verify",
    "Datastore.Backup",
    "Datastore.Prune",
  ],
  DatastoreReader: ["Datastore.Audit", "Datastore.Read", "Datastore.Verify"],
  DatastoreBackup: ["Datastore.Backup"],
  DatastorePowerUser: ["Datastore.Backup", "Datastore.Prune"],
  DatastoreAudit: ["Datastore.Audit"],
};

const entry = (path: string, ugid: string, role: RoleName, propagate = true): AclEntry => ({
  path,
  ugid,
  role,
  propagate,
});

function names(acl: AclEntry[], authId: string, path: string) {
  const set = privilegesAt(acl, authId, parseAclPath(path));
  return { all: privilegeNames(set.privileges), propagated: privilegeNames(set.propagated) };
}

const sorted = (list: readonly string[]) => [...list].sort();

test("there are exactly the PBS privileges and the named roles", (t) => {
  t.is(PRIVILEGE_NAMES.length, 20);
  for (const role of Object.keys(EXPECTED)) t.true(ROLE_NAMES.includes(role as RoleName), role);
});

for (const [role, expected] of Object.entries(EXPECTED)) {
  test(`${role} on a datastore with propagate: the store and its namespaces, nothing else`, (t) => {
    const acl = [entry("/datastore/store1", "u@pbs", role as RoleName)];
    for (const path of ["/datastore/store1", "/datastore/store1/a", "/datastore/store1/a/b/c"]) {
      const got = names(acl, "u@pbs", path);
      t.deepEqual(sorted(got.all), sorted(expected), path);
      t.deepEqual(sorted(got.propagated), sorted(expected), path);
    }
    for (const path of ["/", "/datastore", "/datastore/store2", "/system", "/datastore/store10"]) {
      t.deepEqual(names(acl, "u@pbs", path).all, [], path);
    }
    t.deepEqual(names(acl, "other@pbs", "/datastore/store1").all, [], "another user");
  });

  test(`${role} on a namespace without propagate: that namespace only`, (t) => {
    const acl = [entry("/datastore/store1/a", "u@pbs", role as RoleName, false)];
    const got = names(acl, "u@pbs", "/datastore/store1/a");
    t.deepEqual(sorted(got.all), sorted(expected));
    t.deepEqual(got.propagated, [], "nothing propagates");
    t.deepEqual(names(acl, "u@pbs", "/datastore/store1/a/b").all, []);
    t.deepEqual(names(acl, "u@pbs", "/datastore/store1").all, []);
  });
}

test("NoAccess blocks what is inherited, and deeper entries grant again", (t) => {
  const acl = [
    entry("/", "u@pbs", "Admin"),
    entry("/datastore/secret", "u@pbs", "NoAccess"),
    entry("/datastore/secret/shared", "u@pbs", "DatastoreReader"),
  ];
  t.is(names(acl, "u@pbs", "/datastore/public").all.length, 20);
  t.deepEqual(names(acl, "u@pbs", "/datastore/secret").all, []);
  t.deepEqual(names(acl, "u@pbs", "/datastore/secret/private").all, []);
  t.deepEqual(sorted(names(acl, "u@pbs", "/datastore/secret/shared/x").all), [
    "Datastore.Audit",
    "Datastore.Read",
    "Datastore.Verify",
  ]);
});

test("NoAccess on a path wins over other roles of the same auth id on that path", (t) => {
  const acl: AclEntry[] = [
    entry("/datastore/s", "u@pbs", "DatastoreAdmin"),
    entry("/datastore/s", "u@pbs", "NoAccess"),
  ];
  t.deepEqual(names(acl, "u@pbs", "/datastore/s").all, []);
  t.deepEqual([...rolesAt(acl, "u@pbs", parseAclPath("/datastore/s"))], [["NoAccess", false]]);
});

test("a non-propagating NoAccess only hides its own path", (t) => {
  const acl = [
    entry("/datastore", "u@pbs", "DatastoreAudit"),
    entry("/datastore/s", "u@pbs", "NoAccess", false),
  ];
  t.deepEqual(names(acl, "u@pbs", "/datastore/s").all, []);
  t.deepEqual(names(acl, "u@pbs", "/datastore/s/ns").all, ["Datastore.Audit"]);
});

test("a deeper entry replaces the inherited roles instead of adding to them", (t) => {
  const acl = [
    entry("/datastore", "u@pbs", "DatastoreAdmin"),
    entry("/datastore/s", "u@pbs", "DatastoreAudit"),
  ];
  t.deepEqual(names(acl, "u@pbs", "/datastore/s/ns").all, ["Datastore.Audit"]);
  t.is(names(acl, "u@pbs", "/datastore/other").all.length, 6);
});

test("a non-propagating entry above does not replace what is inherited below it", (t) => {
  const acl = [
    entry("/", "u@pbs", "DatastoreReader"),
    entry("/datastore", "u@pbs", "DatastoreAudit", false),
  ];
  t.deepEqual(names(acl, "u@pbs", "/datastore").all, ["Datastore.Audit"]);
  t.deepEqual(sorted(names(acl, "u@pbs", "/datastore/s").all), [
    "Datastore.Audit",
    "Datastore.Read",
    "Datastore.Verify",
  ]);
});

test("propagated privileges say what holds below the path", (t) => {
  const acl = [
    entry("/datastore/s", "u@pbs", "DatastoreBackup", true),
    entry("/datastore/s", "u@pbs", "DatastoreAudit", false),
  ];
  const got = names(acl, "u@pbs", "/datastore/s");
  t.deepEqual(sorted(got.all), ["Datastore.Audit", "Datastore.Backup"]);
  t.deepEqual(got.propagated, ["Datastore.Backup"]);
  t.deepEqual(names(acl, "u@pbs", "/datastore/s/ns").all, ["Datastore.Backup"]);
});

test("a token has the intersection of its own ACL and its user's", (t) => {
  const acl = [
    entry("/datastore", "u@pbs", "DatastoreAdmin"),
    entry("/datastore/s", "u@pbs!ci", "DatastorePowerUser"),
    entry("/system", "u@pbs!ci", "Admin"),
    entry("/datastore/t", "u@pbs!ci", "DatastoreReader"),
    entry("/datastore/t", "u@pbs", "DatastoreBackup"),
  ];
  t.deepEqual(sorted(names(acl, "u@pbs!ci", "/datastore/s").all), [
    "Datastore.Backup",
    "Datastore.Prune",
  ]);
  t.deepEqual(names(acl, "u@pbs!ci", "/system").all, [], "the user has nothing on /system");
  t.deepEqual(names(acl, "u@pbs!ci", "/datastore/t").all, [], "Reader ∩ Backup is empty");
  t.deepEqual(names(acl, "u@pbs!ci", "/datastore/other").all, [], "no entry of its own");
  t.deepEqual(names(acl, "u@pbs!other", "/datastore/s").all, [], "another token of the user");
});

test("root@pam has every privilege everywhere; its tokens only what the ACL gives", (t) => {
  const acl = [entry("/datastore/s", "root@pam!t", "DatastoreAudit")];
  const root = names(acl, "root@pam", "/datastore/anything");
  t.is(root.all.length, 20);
  t.is(root.propagated.length, 20);
  t.deepEqual(names(acl, "root@pam!t", "/datastore/s").all, ["Datastore.Audit"]);
  t.deepEqual(names(acl, "root@pam!t", "/").all, []);
});

test("granting NoAccess displaces other roles and other roles displace NoAccess", (t) => {
  let acl = grantRole([], entry("/datastore/s", "u@pbs", "DatastoreAudit"));
  acl = grantRole(acl, entry("/datastore/s", "u@pbs", "DatastoreBackup"));
  t.is(acl.length, 2);
  acl = grantRole(acl, entry("/datastore/s", "u@pbs", "NoAccess"));
  t.deepEqual(
    acl.map((e) => e.role),
    ["NoAccess"],
  );
  acl = grantRole(acl, entry("/datastore/s", "u@pbs", "DatastoreReader", false));
  t.deepEqual(acl, [entry("/datastore/s", "u@pbs", "DatastoreReader", false)]);
  acl = grantRole(acl, entry("/datastore/s", "u@pbs", "DatastoreReader", true));
  t.deepEqual(acl, [entry("/datastore/s", "u@pbs", "DatastoreReader", true)], "flag updated");
  t.deepEqual(
    revokeRole(acl, { path: "/datastore/s", ugid: "u@pbs", role: "DatastoreReader" }),
    [],
  );
});

test("removing an auth id removes its tokens' entries too, but not look-alikes", (t) => {
  const acl = [
    entry("/", "u@pbs", "Audit"),
    entry("/", "u@pbs!t", "Audit"),
    entry("/", "u@pbsx", "Audit"),
  ];
  t.deepEqual(
    removeAuthId(acl, "u@pbs").map((e) => e.ugid),
    ["u@pbsx"],
  );
  t.deepEqual(
    removeAuthId(acl, "u@pbs!t").map((e) => e.ugid),
    ["u@pbs", "u@pbsx"],
  );
});
