import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import test from "ava";
import { api, rawTls, statusOf } from "./helpers/client.js";
import { addSnapshot, addStore } from "./helpers/snapshots.js";
import { StandInAccess, tokenHeader } from "./helpers/stand-in-access.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

const root = tokenHeader("root@pam");
const T = 1_700_000_000;
const web = `backup-type=host&backup-id=web&backup-time=${T}`;
const store = "/api2/json/admin/datastore/store1";
const json = { ...root, "content-type": "application/json" };

interface Bad {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  status: number;
  /** What the message must mention, when the answer carries one. */
  mentions?: RegExp;
}

const table: Bad[] = [
  // authentication and permissions
  { name: "no credentials", method: "GET", path: `${store}/groups`, status: 401 },
  {
    name: "a wrong token secret",
    method: "GET",
    path: `${store}/groups`,
    headers: { authorization: "PBSAPIToken=root@pam:guess" },
    status: 401,
  },
  {
    name: "a user without privileges",
    method: "GET",
    path: `${store}/groups`,
    headers: tokenHeader("nobody@pbs"),
    status: 403,
  },
  {
    name: "deleting a snapshot without privileges",
    method: "DELETE",
    path: `${store}/snapshots?${web}`,
    headers: tokenHeader("nobody@pbs"),
    status: 403,
  },
  {
    name: "creating a datastore without Datastore.Allocate",
    method: "POST",
    path: "/api2/json/config/datastore",
    headers: tokenHeader("nobody@pbs"),
    body: { name: "evil", path: "/tmp/evil" },
    status: 403,
  },
  // path traversal and hostile names
  {
    name: "a namespace climbing up",
    method: "GET",
    path: `${store}/groups?ns=../x`,
    headers: root,
    status: 400,
    mentions: /ns:/,
  },
  {
    name: "an empty namespace component",
    method: "GET",
    path: `${store}/groups?ns=a//b`,
    headers: root,
    status: 400,
    mentions: /ns:/,
  },
  {
    name: "a NUL in a namespace",
    method: "GET",
    path: `${store}/groups?ns=a%00b`,
    headers: root,
    status: 400,
    mentions: /ns:/,
  },
  {
    name: "a namespace nine levels deep",
    method: "GET",
    path: `${store}/groups?ns=a/b/c/d/e/f/g/h/i`,
    headers: root,
    status: 400,
    mentions: /levels deep/,
  },
  {
    name: "a backup id with ..",
    method: "GET",
    path: `${store}/files?backup-type=host&backup-id=..&backup-time=${T}`,
    headers: root,
    status: 400,
    mentions: /backup-id/,
  },
  {
    name: "a backup id with a slash",
    method: "GET",
    path: `${store}/files?backup-type=host&backup-id=a%2Fb&backup-time=${T}`,
    headers: root,
    status: 400,
    mentions: /backup-id/,
  },
  {
    name: "a backup id of 300 characters",
    method: "GET",
    path: `${store}/files?backup-type=host&backup-id=${"a".repeat(300)}&backup-time=${T}`,
    headers: root,
    status: 400,
    mentions: /backup-id/,
  },
  {
    name: "a file name leaving the snapshot",
    method: "GET",
    path: `${store}/download?${web}&file-name=../../owner`,
    headers: root,
    status: 400,
    mentions: /file-name/,
  },
  {
    name: "an absolute file name",
    method: "GET",
    path: `${store}/download?${web}&file-name=%2Fetc%2Fpasswd`,
    headers: root,
    status: 400,
    mentions: /file-name/,
  },
  {
    name: "a file name without an archive suffix",
    method: "GET",
    path: `${store}/download?${web}&file-name=owner`,
    headers: root,
    status: 400,
    mentions: /file-name/,
  },
  {
    name: "a store name with a slash",
    method: "GET",
    path: "/api2/json/admin/datastore/..%2Fetc/groups",
    headers: root,
    status: 400,
    mentions: /store/,
  },
  {
    name: "a dot-dot path segment",
    method: "GET",
    path: "/api2/json/admin/datastore/store1/../../config/datastore",
    headers: root,
    status: 400,
  },
  {
    name: "a malformed percent-encoding",
    method: "GET",
    path: "/api2/json/admin/datastore/%zz/groups",
    headers: root,
    status: 400,
  },
  {
    name: "a root namespace deletion",
    method: "DELETE",
    path: `${store}/namespace?ns=`,
    headers: root,
    status: 400,
    mentions: /root namespace/,
  },
  {
    name: "a namespace name with a slash",
    method: "POST",
    path: `${store}/namespace`,
    headers: json,
    body: { name: "a/b" },
    status: 400,
    mentions: /name/,
  },
  // wrong types and values
  {
    name: "an unknown backup type",
    method: "GET",
    path: `${store}/snapshots?backup-type=vmx`,
    headers: root,
    status: 400,
    mentions: /backup-type: must be one of ct, host, vm/,
  },
  {
    name: "a backup time that is text",
    method: "GET",
    path: `${store}/files?backup-type=host&backup-id=web&backup-time=yesterday`,
    headers: root,
    status: 400,
    mentions: /backup-time/,
  },
  {
    name: "a negative backup time",
    method: "GET",
    path: `${store}/files?backup-type=host&backup-id=web&backup-time=-5`,
    headers: root,
    status: 400,
    mentions: /backup-time/,
  },
  {
    name: "a backup time in exponent notation",
    method: "GET",
    path: `${store}/files?backup-type=host&backup-id=web&backup-time=1e9`,
    headers: root,
    status: 400,
    mentions: /backup-time/,
  },
  {
    name: "a backup time past year 9999",
    method: "GET",
    path: `${store}/files?backup-type=host&backup-id=web&backup-time=999999999999`,
    headers: root,
    status: 400,
    mentions: /backup-time/,
  },
  {
    name: "a parameter given twice",
    method: "GET",
    path: `${store}/snapshots?backup-type=host&backup-type=vm`,
    headers: root,
    status: 400,
    mentions: /backup-type/,
  },
  {
    name: "an unknown parameter",
    method: "GET",
    path: `${store}/groups?verbose=1`,
    headers: root,
    status: 400,
    mentions: /verbose: unknown parameter/,
  },
  {
    name: "a missing parameter",
    method: "GET",
    path: `${store}/files?backup-type=host&backup-id=web`,
    headers: root,
    status: 400,
    mentions: /backup-time: parameter is missing/,
  },
  {
    name: "notes that are a number",
    method: "PUT",
    path: `${store}/notes`,
    headers: json,
    body: { "backup-type": "host", "backup-id": "web", "backup-time": T, notes: 5 },
    status: 400,
    mentions: /notes/,
  },
  {
    name: "protection that is not a boolean",
    method: "PUT",
    path: `${store}/protected`,
    headers: json,
    body: { "backup-type": "host", "backup-id": "web", "backup-time": T, protected: "maybe" },
    status: 400,
    mentions: /protected: must be a boolean/,
  },
  {
    name: "keep-last of zero",
    method: "POST",
    path: `${store}/prune`,
    headers: json,
    body: { "backup-type": "host", "backup-id": "web", "keep-last": 0 },
    status: 400,
    mentions: /keep-last/,
  },
  {
    name: "keep-last with a shell tail",
    method: "POST",
    path: `${store}/prune`,
    headers: json,
    body: { "backup-type": "host", "backup-id": "web", "keep-last": "3; rm -rf /" },
    status: 400,
    mentions: /keep-last/,
  },
  {
    name: "a verify time without a group",
    method: "POST",
    path: `${store}/verify`,
    headers: json,
    body: { "backup-time": T },
    status: 400,
  },
  {
    name: "an owner without a realm",
    method: "POST",
    path: `${store}/change-owner`,
    headers: json,
    body: { "backup-type": "host", "backup-id": "web", "new-owner": "root" },
    status: 400,
    mentions: /new-owner/,
  },
  {
    name: "an owner with a line break",
    method: "POST",
    path: `${store}/change-owner`,
    headers: json,
    body: { "backup-type": "host", "backup-id": "web", "new-owner": "a@pbs\nb@pbs" },
    status: 400,
    mentions: /new-owner/,
  },
  {
    name: "a __proto__ key",
    method: "POST",
    path: `${store}/namespace`,
    headers: json,
    body: '{"name":"ok","__proto__":{"admin":true}}',
    status: 400,
    mentions: /__proto__: unknown parameter/,
  },
  // bodies
  {
    name: "JSON cut short",
    method: "POST",
    path: `${store}/namespace`,
    headers: json,
    body: '{"name": "x"',
    status: 400,
    mentions: /not valid JSON/,
  },
  {
    name: "a JSON array body",
    method: "POST",
    path: `${store}/namespace`,
    headers: json,
    body: "[1,2]",
    status: 400,
    mentions: /JSON object/,
  },
  {
    name: "a JSON string body",
    method: "POST",
    path: `${store}/namespace`,
    headers: json,
    body: '"name"',
    status: 400,
    mentions: /JSON object/,
  },
  {
    name: "an unsupported content type",
    method: "POST",
    path: `${store}/namespace`,
    headers: { ...root, "content-type": "text/plain" },
    body: "name=x",
    status: 415,
  },
  {
    name: "a JSON body over the limit",
    method: "PUT",
    path: `${store}/notes`,
    headers: json,
    body: { notes: "x".repeat(600 * 1024) },
    status: 413,
  },
  {
    name: "a client log that is no blob",
    method: "POST",
    path: `${store}/upload-backup-log?${web}`,
    headers: { ...root, "content-type": "application/octet-stream" },
    body: "not a blob at all",
    status: 400,
  },
  // configuration
  {
    name: "a datastore name of two characters",
    method: "POST",
    path: "/api2/json/config/datastore",
    headers: json,
    body: { name: "ab", path: "/srv/ab" },
    status: 400,
    mentions: /name/,
  },
  {
    name: "a relative datastore path",
    method: "POST",
    path: "/api2/json/config/datastore",
    headers: json,
    body: { name: "abc", path: "srv/abc" },
    status: 400,
    mentions: /path/,
  },
  {
    name: "a datastore path with ..",
    method: "POST",
    path: "/api2/json/config/datastore",
    headers: json,
    body: { name: "abc", path: "/srv/../etc" },
    status: 400,
    mentions: /path/,
  },
  {
    name: "an existing datastore name",
    method: "POST",
    path: "/api2/json/config/datastore",
    headers: json,
    body: { name: "store1", path: "/srv/other" },
    status: 409,
  },
  {
    name: "an unknown tuning option",
    method: "PUT",
    path: "/api2/json/config/datastore/store1",
    headers: json,
    body: { tuning: "turbo=1" },
    status: 400,
    mentions: /tuning/,
  },
  {
    name: "deleting the path option",
    method: "PUT",
    path: "/api2/json/config/datastore/store1",
    headers: json,
    body: { delete: ["path"] },
    status: 400,
    mentions: /delete/,
  },
  {
    name: "a stale config digest",
    method: "PUT",
    path: "/api2/json/config/datastore/store1",
    headers: json,
    body: { comment: "x", digest: "0".repeat(64) },
    status: 409,
  },
  {
    name: "a malformed config digest",
    method: "PUT",
    path: "/api2/json/config/datastore/store1",
    headers: json,
    body: { comment: "x", digest: "xyz" },
    status: 400,
    mentions: /digest/,
  },
  {
    name: "an unknown datastore",
    method: "GET",
    path: "/api2/json/admin/datastore/nostore/groups",
    headers: root,
    status: 404,
  },
  // tasks and routing
  {
    name: "a malformed UPID",
    method: "GET",
    path: "/api2/json/nodes/localhost/tasks/UPID%3Ax%3A/status",
    headers: root,
    status: 400,
    mentions: /upid/,
  },
  {
    name: "another node",
    method: "GET",
    path: "/api2/json/nodes/othernode/tasks",
    headers: root,
    status: 404,
  },
  {
    name: "a negative task limit",
    method: "GET",
    path: "/api2/json/nodes/localhost/tasks?limit=-1",
    headers: root,
    status: 400,
    mentions: /limit/,
  },
  {
    name: "a wrong method",
    method: "DELETE",
    path: "/api2/json/version",
    headers: root,
    status: 405,
  },
  {
    name: "an unknown path",
    method: "GET",
    path: "/api2/json/no/such/thing",
    headers: root,
    status: 404,
  },
];

/** Every file below `dir` (lock files aside) with a hash of its content. */
async function fingerprintTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (entry.name === ".locks") continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else
        out[relative(dir, path)] = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
    }
  };
  await walk(dir);
  return out;
}

let server: TestServer;
let before: Record<string, string>;

test.before(async () => {
  server = await startTestServer({ access: new StandInAccess() });
  const datastore = await addStore(server.configDir, "store1", join(server.root, "store1"));
  await addSnapshot(datastore, { type: "host", id: "web", time: T, owner: "root@pam" });
  before = await fingerprintTree(server.root);
});

test.after.always(async () => {
  await server?.stop();
});

test("the table holds at least 40 malformed requests", (t) => {
  t.true(table.length >= 40, `${table.length}`);
});

for (const bad of table) {
  test.serial(`${bad.name} → ${bad.status}`, async (t) => {
    const answer = await api(server.port, bad.method, bad.path, {
      ...(bad.headers && { headers: bad.headers }),
      ...(bad.body !== undefined && { body: bad.body }),
    });
    t.is(answer.status, bad.status, answer.body.toString().slice(0, 300));
    if (bad.status !== 405 || answer.json) t.is(typeof answer.json?.message, "string");
    if (bad.mentions) t.regex(answer.json.message, bad.mentions);
  });
}

test.serial("raw protocol abuse is answered with 4xx", async (t) => {
  const cases: [string, number][] = [
    [
      `POST ${store}/upload-backup-log?${web} HTTP/1.1\r\nHost: x\r\nAuthorization: ${root.authorization}\r\nContent-Length: 99999999\r\n\r\n`,
      413,
    ],
    [
      "GET /api2/json/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      400,
    ],
    ["GET /api2/json/ping HTTP/1.1\r\nBad Header Name: x\r\n\r\n", 400],
    [`GET /api2/json/ping HTTP/1.1\r\n${"X-A: b\r\n".repeat(10_000)}\r\n`, 431],
  ];
  for (const [request, status] of cases)
    t.is(statusOf(await rawTls(server.port, request)), status, request.slice(0, 60));
});

test.serial("afterwards the server is healthy and nothing stored has changed", async (t) => {
  t.is((await api(server.port, "GET", "/api2/json/ping")).status, 200);
  const groups = await api(server.port, "GET", `${store}/groups`, { headers: root });
  t.is(groups.status, 200);
  t.is(groups.json.data.length, 1);
  t.deepEqual(await fingerprintTree(server.root), before);
});
