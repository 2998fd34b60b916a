import { posix } from "node:path";
import test from "ava";
import type { DatastoreError } from "../../appliance/datastore/errors.js";
import {
  type BackupGroupName,
  chunkPath,
  compareBackupGroups,
  compareBackupTypes,
  formatSnapshotTime,
  groupPath,
  namespaceToDisplay,
  namespaceToPath,
  parseNamespace,
  parseNamespacePath,
  parseSnapshotTime,
  snapshotPath,
  validateArchiveName,
  validateBackupId,
  validateBackupTime,
  validateBackupType,
  validateChunkDigest,
  validateDatastoreName,
} from "../../appliance/datastore/names.js";

const DIGEST = "ab12" + "0123456789abcdef".repeat(3) + "0123456789ab";

/** Hostile strings every name validator must refuse. */
const HOSTILE = [
  "",
  ".",
  "..",
  "../etc",
  "a/b",
  "/abs",
  "a\0b",
  "a\\b",
  " lead",
  "tab\tin",
  "new\nline",
  "\u2024\u2024", // one-dot leaders that look like ".."
  "a\u2215b", // division slash
  "\uff0e\uff0e", // fullwidth full stops
  "r\u202eevil", // right-to-left override
  "caf\u00e9",
  "x".repeat(10_000),
];

function refusal(
  t: import("ava").ExecutionContext,
  run: () => unknown,
  code: string,
  field: string,
) {
  const error = t.throws(run, { code }) as DatastoreError;
  t.is(error.context["field"], field);
  t.is(error.httpStatus, 400);
  t.true(error.message.includes(field), error.message);
  return error;
}

test("backup types: only ct, host, vm, sorted ct < host < vm", (t) => {
  for (const type of ["vm", "ct", "host"]) t.is(validateBackupType(type) as string, type);
  for (const bad of ["VM", "lxc", "", " vm", "vm\0", 1, null]) {
    refusal(t, () => validateBackupType(bad), "CAIRN_E_DATASTORE_BAD_NAME", "backup type");
  }
  t.deepEqual(["vm", "host", "ct"].map(validateBackupType).sort(compareBackupTypes), [
    "ct",
    "host",
    "vm",
  ]);
});

test("backup ids: safe-id characters, 1..255 long", (t) => {
  for (const id of ["100", "my-host.example_1", "_x", "A", "x".repeat(255), "a..b"]) {
    t.is(validateBackupId(id), id);
  }
  for (const bad of [...HOSTILE, "-x", ".hidden", "x".repeat(256), 100, undefined]) {
    refusal(t, () => validateBackupId(bad), "CAIRN_E_DATASTORE_BAD_NAME", "backup id");
  }
});

test("a refusal shows the value escaped and cut short", (t) => {
  const nul = refusal(t, () => validateBackupId("a\0b"), "CAIRN_E_DATASTORE_BAD_NAME", "backup id");
  t.true(nul.message.includes('"a\\u{0}b"'), nul.message);
  t.is(nul.context["value"], '"a\\u{0}b"');
  const rtl = refusal(
    t,
    () => validateBackupId("r\u202eevil"),
    "CAIRN_E_DATASTORE_BAD_NAME",
    "backup id",
  );
  t.false(rtl.message.includes("\u202e"));
  const long = refusal(
    t,
    () => validateBackupId("y".repeat(10_000)),
    "CAIRN_E_DATASTORE_BAD_NAME",
    "backup id",
  );
  t.true(long.message.length < 300);
  t.true(long.message.includes("(10000 chars)"));
});

test("groups sort by type, then numeric ids by value before the others, then by text", (t) => {
  const groups: BackupGroupName[] = [
    { type: "vm", id: "abc" },
    { type: "vm", id: "100" },
    { type: "host", id: "zeta" },
    { type: "vm", id: "18446744073709551616" }, // one past u64: compared as text
    { type: "vm", id: "20" },
    { type: "ct", id: "101" },
    { type: "vm", id: "007" },
    { type: "vm", id: "18446744073709551615" },
    { type: "host", id: "Alpha" },
    { type: "host", id: "alpha" },
    { type: "vm", id: "3" },
  ];
  t.deepEqual(
    [...groups].sort(compareBackupGroups).map((group) => `${group.type}/${group.id}`),
    [
      "ct/101",
      "host/Alpha",
      "host/alpha",
      "host/zeta",
      "vm/3",
      "vm/007",
      "vm/20",
      "vm/100",
      "vm/18446744073709551615",
      "vm/18446744073709551616",
      "vm/abc",
    ],
  );
});

test("namespaces: display and path forms convert both ways", (t) => {
  t.deepEqual(parseNamespace(""), []);
  t.is(namespaceToPath(parseNamespace("")), "");
  const ns = parseNamespace("site-a/ns/host_1");
  t.deepEqual(ns, ["site-a", "ns", "host_1"]);
  t.is(namespaceToPath(ns), "ns/site-a/ns/ns/ns/host_1");
  t.deepEqual(parseNamespacePath("ns/site-a/ns/ns/ns/host_1"), ns);
  t.is(namespaceToDisplay(parseNamespacePath("ns/a/ns/b")), "a/b");
  t.deepEqual(parseNamespacePath(""), []);
});

test("namespaces: at most 7 levels and 256 characters", (t) => {
  t.is(parseNamespace("1/2/3/4/5/6/7").length, 7);
  refusal(t, () => parseNamespace("1/2/3/4/5/6/7/8"), "CAIRN_E_DATASTORE_BAD_NAME", "namespace");
  const longest = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(64)].join("/");
  t.is(longest.length, 256);
  t.is(parseNamespace(longest).length, 4);
  refusal(t, () => parseNamespace(longest + "d"), "CAIRN_E_DATASTORE_BAD_NAME", "namespace");
  t.is(parseNamespace("n".repeat(255))[0]!.length, 255);
  refusal(t, () => parseNamespace("n".repeat(256)), "CAIRN_E_DATASTORE_BAD_NAME", "namespace");
});

test("namespaces: hostile display forms are refused", (t) => {
  // The empty string is the root namespace, so it is not among them.
  for (const bad of ["/a", "a/", "a//b", "a/../b", "..", "./a", "a/.b", "a\0", "\uff0e", 7]) {
    refusal(t, () => parseNamespace(bad), "CAIRN_E_DATASTORE_BAD_NAME", "namespace");
  }
  for (const component of HOSTILE.filter((text) => text !== "" && !text.includes("/"))) {
    refusal(t, () => parseNamespace(component), "CAIRN_E_DATASTORE_BAD_NAME", "namespace");
  }
});

test("namespaces: path forms must alternate ns and a component exactly", (t) => {
  for (const bad of [
    "a/b",
    "ns/a/b",
    "ns/a/",
    "/ns/a",
    "ns//ns/a",
    "ns/a/ns",
    "ns/../ns/a",
    "NS/a",
    "ns/a/ns/b/ns/c/ns/d/ns/e/ns/f/ns/g/ns/h",
  ]) {
    refusal(t, () => parseNamespacePath(bad), "CAIRN_E_DATASTORE_BAD_NAME", "namespace path");
  }
});

test("snapshot times format as UTC with a trailing Z and parse back exactly", (t) => {
  const cases: [number, string][] = [
    [1, "1970-01-01T00:00:01Z"],
    [1_700_000_000, "2023-11-14T22:13:20Z"],
    [1_709_164_800, "2024-02-29T00:00:00Z"],
    [253_402_300_799, "9999-12-31T23:59:59Z"],
  ];
  for (const [epoch, text] of cases) {
    t.is(formatSnapshotTime(epoch), text);
    t.is(parseSnapshotTime(text), epoch);
  }
});

test("snapshot times: anything but an exact real UTC time is refused", (t) => {
  for (const bad of [
    "1970-01-01T00:00:00Z", // epoch 0
    "1969-12-31T23:59:59Z",
    "2023-11-14T22:13:20+00:00",
    "2023-11-14T22:13:20.000Z",
    "2023-11-14 22:13:20Z",
    "2023-11-14T22:13:20z",
    "2023-11-14T22:13:20Z\n",
    " 2023-11-14T22:13:20Z",
    "2023-02-29T00:00:00Z",
    "2023-04-31T00:00:00Z",
    "2023-13-01T00:00:00Z",
    "2023-11-14T24:00:00Z",
    "2023-11-14T22:60:00Z",
    "2023-11-14T22:13:60Z",
    "２023-11-14T22:13:20Z",
    "+02023-11-14T22:13:20Z",
    "",
    1_700_000_000,
  ]) {
    refusal(t, () => parseSnapshotTime(bad), "CAIRN_E_DATASTORE_BAD_TIME", "snapshot time");
  }
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 253_402_300_800, "1"]) {
    refusal(t, () => validateBackupTime(bad), "CAIRN_E_DATASTORE_BAD_TIME", "backup time");
  }
});

test("datastore names: safe-id, 3..32 characters", (t) => {
  for (const name of ["abc", "store1", "backup-pool.main_2", "s".repeat(32)]) {
    t.is(validateDatastoreName(name), name);
  }
  for (const bad of [...HOSTILE, "ab", "s".repeat(33), "-store", ".store"]) {
    refusal(t, () => validateDatastoreName(bad), "CAIRN_E_DATASTORE_BAD_NAME", "datastore name");
  }
});

test("archive names: a plain file name ending in .fidx, .didx or .blob", (t) => {
  for (const name of [
    "root.pxar.didx",
    "drive-scsi0.img.fidx",
    "index.json.blob",
    "qemu-server.conf.blob",
    "catalog.pcat1.didx",
    `${"a".repeat(195)}.blob`,
  ]) {
    t.is(validateArchiveName(name), name);
  }
  for (const bad of [
    ...HOSTILE,
    "root.pxar",
    ".fidx",
    ".hidden.blob",
    "../x.blob",
    "a/b.blob",
    "a\0.blob",
    "x.blob/",
    "x.BLOB",
    "x.blob.tmp",
    "x.fidx ",
    "\uff58.blob",
    `${"a".repeat(196)}.blob`,
  ]) {
    refusal(t, () => validateArchiveName(bad), "CAIRN_E_DATASTORE_BAD_NAME", "archive name");
  }
});

test("chunk digests: exactly 64 lowercase hex characters", (t) => {
  t.is(validateChunkDigest(DIGEST), DIGEST);
  for (const bad of [
    DIGEST.toUpperCase(),
    DIGEST.slice(1),
    `${DIGEST}0`,
    `${DIGEST.slice(0, 63)}g`,
    `../${DIGEST.slice(3)}`,
    "",
    Buffer.from(DIGEST, "hex"),
  ]) {
    refusal(t, () => validateChunkDigest(bad), "CAIRN_E_DATASTORE_BAD_DIGEST", "chunk digest");
  }
});

test("path builders place groups, snapshots and chunks where PBS does", (t) => {
  t.is(groupPath([], "vm", "100"), "vm/100");
  t.is(groupPath(["a", "b"], "ct", "web01"), "ns/a/ns/b/ct/web01");
  t.is(snapshotPath([], "host", "elsa", 1_700_000_000), "host/elsa/2023-11-14T22:13:20Z");
  t.is(snapshotPath(["site"], "vm", "100", 1_709_164_800), "ns/site/vm/100/2024-02-29T00:00:00Z");
  t.is(chunkPath(DIGEST), `.chunks/ab12/${DIGEST}`);
});

test("path builders refuse anything that could leave the datastore", (t) => {
  const code = "CAIRN_E_DATASTORE_BAD_NAME";
  refusal(t, () => groupPath([".."], "vm", "100"), code, "namespace");
  refusal(t, () => groupPath(["a/../.."], "vm", "100"), code, "namespace");
  refusal(t, () => groupPath([], "../vm" as "vm", "100"), code, "backup type");
  refusal(t, () => groupPath([], "vm", "../../etc"), code, "backup id");
  refusal(t, () => groupPath([], "vm", "/etc"), code, "backup id");
  refusal(t, () => snapshotPath([], "vm", "100", 0), "CAIRN_E_DATASTORE_BAD_TIME", "backup time");
  refusal(
    t,
    () => chunkPath("../../../../etc/passwd"),
    "CAIRN_E_DATASTORE_BAD_DIGEST",
    "chunk digest",
  );
});

test("every built path is relative, normalised and without '..' segments", (t) => {
  const paths = [
    groupPath(["a", "b.c", "_d"], "host", "x..y"),
    snapshotPath(["ns", "ns"], "vm", "0", 1),
    chunkPath(DIGEST),
  ];
  for (const path of paths) {
    t.false(posix.isAbsolute(path), path);
    t.is(posix.normalize(path), path);
    t.false(path.split("/").includes(".."), path);
  }
});
