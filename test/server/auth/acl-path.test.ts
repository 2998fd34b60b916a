import test from "ava";
import { parseAclFile, serializeAclFile } from "../../../appliance/server/auth/acl-file.js";
import { fillAclPath, parseAclPath } from "../../../appliance/server/auth/acl-path.js";

test("ACL paths parse into components and must be known places", (t) => {
  t.deepEqual(parseAclPath("/"), []);
  t.deepEqual(parseAclPath("/datastore/store1/a/b"), ["datastore", "store1", "a", "b"]);
  for (const ok of [
    "/access/acl",
    "/system/network/interfaces/eth0",
    "/remote/r1/s",
    "/tape/pool/p",
  ]) {
    t.notThrows(() => parseAclPath(ok), ok);
  }
  const cases: Array<[string, RegExp]> = [
    ["datastore", /must start with '\/'/],
    ["/datastore/", /component "" is not a safe id/],
    ["/datastore/a b", /not a safe id/],
    ["/nothing", /must start with \/access/],
    ["/access/foo", /below \/access/],
    ["/system/foo", /unknown system path/],
    ["/datastore/s/1/2/3/4/5/6/7/8", /at most 7 levels/],
    [`/datastore/${"x".repeat(130)}`, /longer than 128/],
  ];
  for (const [path, message] of cases) {
    const err = t.throws(() => parseAclPath(path), { message }, path);
    t.is((err as unknown as { httpStatus: number }).httpStatus, 400);
  }
});

test("a route's permission path is filled from its parameters", (t) => {
  t.deepEqual(fillAclPath("/datastore/{store}", { store: "s1" }), ["datastore", "s1"]);
  t.deepEqual(fillAclPath("/datastore/{store}/{ns}", { store: "s1", ns: "a/b" }), [
    "datastore",
    "s1",
    "a",
    "b",
  ]);
  t.deepEqual(fillAclPath("/datastore/{store}/{ns}", { store: "s1" }), ["datastore", "s1"]);
  t.deepEqual(fillAclPath("/datastore/{store}/{ns}", { store: "s1", ns: "" }), ["datastore", "s1"]);
  t.deepEqual(fillAclPath("/system/disks", {}), ["system", "disks"]);
  t.throws(() => fillAclPath("/datastore/{store}/{ns}", { ns: "a" }), {
    message: /earlier parameter is missing/,
  });
  t.throws(() => fillAclPath("/datastore/{store}/x", {}), { message: /literal follows/ });
  t.throws(() => fillAclPath("/datastore/{store}", { store: "../x" }), { message: /safe id/ });
  t.throws(() => fillAclPath("/datastore/{store}", { store: { a: 1 } }), {
    message: /expected a string/,
  });
});

test("acl.cfg parses PBS lines, lists included, and writes them back", (t) => {
  const acl = parseAclFile(
    "acl:1:/:root@pam!test:Admin\n" +
      "acl:1:/datastore/store1:user1@pbs,user2@pbs:DatastoreAdmin,DatastoreAudit\n" +
      "\n# a comment\n" +
      "acl:0:/datastore/store1/ns1:user1@pbs!ci:DatastoreBackup\n",
  );
  t.is(acl.length, 6);
  t.deepEqual(acl.at(-1), {
    path: "/datastore/store1/ns1",
    ugid: "user1@pbs!ci",
    role: "DatastoreBackup",
    propagate: false,
  });
  const text = serializeAclFile(acl);
  t.is(
    text,
    "acl:1:/:root@pam!test:Admin\n" +
      "acl:1:/datastore/store1:user1@pbs:DatastoreAdmin,DatastoreAudit\n" +
      "acl:1:/datastore/store1:user2@pbs:DatastoreAdmin,DatastoreAudit\n" +
      "acl:0:/datastore/store1/ns1:user1@pbs!ci:DatastoreBackup\n",
  );
  t.deepEqual(parseAclFile(text), acl);
});

test("bad acl.cfg lines are refused naming the line and the problem", (t) => {
  const cases: Array<[string, RegExp]> = [
    ["acl:1:/:u@pbs", /line 1: expected acl:/],
    ["\nacl:2:/:u@pbs:Admin", /line 2: propagate must be 0 or 1/],
    ["acl:1:/foo:u@pbs:Admin", /line 1: invalid ACL path "\/foo"/],
    ["acl:1:/:nobody:Admin", /line 1: invalid auth-id "nobody"/],
    ["acl:1:/:u@pbs:Superhero", /line 1: unknown role "Superhero"/],
    ["acl:1:/:@admins:Admin", /line 1: group @admins: groups are not supported/],
  ];
  for (const [text, message] of cases) t.throws(() => parseAclFile(text), { message }, text);
});
