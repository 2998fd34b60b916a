import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import {
  AclFormatError,
  accessPart,
  decodeAclXattr,
  defaultPart,
  encodeAccessAcl,
  encodeDefaultAcl,
} from "../../../appliance/client/archive/posix-acl.js";
import { EMPTY_ACL } from "../../../appliance/format/pxar/types.js";
import { lgetxattr } from "../../../appliance/native/fsops.js";
import { hasCommand, run, tempDir } from "./fixtures.js";

/** version 2, then (tag, perm, id) entries: what the kernel stores for `u::rw-,u:1234:rw-,g::r--,g:5678:r--,m::rw-,o::r--`. */
const ACCESS = Buffer.from(
  "02000000" +
    "01000600ffffffff" +
    "02000600d2040000" +
    "04000400ffffffff" +
    "080004002e160000" +
    "10000600ffffffff" +
    "20000400ffffffff",
  "hex",
);

test("an access ACL becomes pxar's users, groups and group_obj", (t) => {
  const entries = decodeAclXattr(ACCESS);
  t.deepEqual(accessPart(entries), {
    users: [{ uid: 1234, permissions: 6 }],
    groups: [{ gid: 5678, permissions: 4 }],
    groupObj: 4,
  });
});

test("without a mask the group_obj is the mode's and is not stored", (t) => {
  const noMask = Buffer.from(
    "02000000" + "01000600ffffffff" + "04000400ffffffff" + "20000400ffffffff",
    "hex",
  );
  t.is(accessPart(decodeAclXattr(noMask)).groupObj, null);
});

test("restoring rebuilds the kernel's bytes from the mode and the stored parts", (t) => {
  const acl = { ...EMPTY_ACL, ...accessPart(decodeAclXattr(ACCESS)) };
  // mode 0o664: owner rw-, group (= mask) rw-, other r--
  t.deepEqual(encodeAccessAcl(0o100664, acl), ACCESS);
  t.is(encodeAccessAcl(0o100664, EMPTY_ACL), null, "nothing beyond the mode: no xattr");
});

test("named entries without a stored group_obj get the mode's group bits as mask", (t) => {
  const acl = { ...EMPTY_ACL, users: [{ uid: 7, permissions: 7 }] };
  const entries = decodeAclXattr(encodeAccessAcl(0o100750, acl)!);
  t.deepEqual(entries, {
    userObj: 7,
    groupObj: 5,
    other: 0,
    mask: 5,
    users: [{ uid: 7, permissions: 7 }],
    groups: [],
  });
});

test("a default ACL keeps unset parts unset and round-trips", (t) => {
  const bytes = Buffer.from(
    "02000000" +
      "01000700ffffffff" +
      "0200070009000000" +
      "04000500ffffffff" +
      "10000700ffffffff" +
      "20000000ffffffff",
    "hex",
  );
  const part = defaultPart(decodeAclXattr(bytes));
  t.deepEqual(part.default, { userObj: 7, groupObj: 5, other: 0, mask: 7 });
  t.deepEqual(part.defaultUsers, [{ uid: 9, permissions: 7 }]);
  t.deepEqual(encodeDefaultAcl({ ...EMPTY_ACL, ...part }), bytes);
  t.is(encodeDefaultAcl(EMPTY_ACL), null);
});

test("named entries come out sorted by id, as the kernel requires", (t) => {
  const acl = {
    ...EMPTY_ACL,
    users: [
      { uid: 30, permissions: 4 },
      { uid: 10, permissions: 6 },
    ],
  };
  const entries = decodeAclXattr(encodeAccessAcl(0o100644, acl)!);
  t.deepEqual(
    entries.users.map((user) => user.uid),
    [10, 30],
  );
});

test("malformed ACL bytes are refused", (t) => {
  t.throws(() => decodeAclXattr(Buffer.from("0200000001", "hex")), { instanceOf: AclFormatError });
  t.throws(() => decodeAclXattr(Buffer.from("0100000001000600ffffffff", "hex")), {
    instanceOf: AclFormatError,
  });
  t.throws(() => decodeAclXattr(Buffer.from("0200000040000600ffffffff", "hex")), {
    instanceOf: AclFormatError,
  });
});

test("setfacl's bytes decode to what was asked for", async (t) => {
  if (!(await hasCommand("setfacl"))) return t.pass("setfacl not installed (Debian package acl)");
  const dir = await tempDir(t);
  await writeFile(join(dir, "f"), "x");
  await mkdir(join(dir, "d"));
  await run("setfacl", ["-m", "u:1234:rw-,g:5678:r--,m::rw-", join(dir, "f")]);
  await run("setfacl", ["-d", "-m", "u:1234:rwx,o::---", join(dir, "d")]);
  t.deepEqual(
    decodeAclXattr(lgetxattr(join(dir, "f"), "system.posix_acl_access")),
    decodeAclXattr(ACCESS),
  );
  const part = defaultPart(decodeAclXattr(lgetxattr(join(dir, "d"), "system.posix_acl_default")));
  t.deepEqual(part.defaultUsers, [{ uid: 1234, permissions: 7 }]);
  t.is(part.default?.other, 0);
});
