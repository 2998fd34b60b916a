import test from "ava";
import { z } from "zod";
import { CairnError } from "../../appliance/errors.js";
import { describeApi } from "../../appliance/server/api/api-description.js";
import { ApiError } from "../../appliance/server/api/api-errors.js";
import {
  fieldsOf,
  mergeParameters,
  parseBody,
  validateParameters,
} from "../../appliance/server/api/parameters.js";
import { defineRoute, type Route } from "../../appliance/server/api/route.js";
import { RouteTable, splitApiPath } from "../../appliance/server/api/route-table.js";
import {
  apiBoolean,
  apiInteger,
  namespace,
  safeId,
} from "../../appliance/server/api/schema-types.js";
import { captureLogger } from "./helpers/capture-logger.js";
import { api, rawTls, statusOf } from "./helpers/client.js";
import { StandInAccess, tokenHeader } from "./helpers/stand-in-access.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

const handler = async ({ params }: { params: unknown }) => params;

const testRoutes: Route[] = [
  defineRoute({
    method: "GET",
    path: "/test/echo/{name}",
    description: "echo",
    parameters: z.strictObject({
      name: safeId(1, 20),
      count: apiInteger(1, 10).optional(),
      flag: apiBoolean().optional(),
      ns: namespace.optional(),
    }),
    permission: { kind: "authenticated" },
    handler,
  }),
  defineRoute({
    method: "POST",
    path: "/test/echo",
    description: "echo a body",
    parameters: z.strictObject({ text: z.string().max(100), count: apiInteger(0, 5).optional() }),
    permission: { kind: "authenticated" },
    handler,
  }),
  defineRoute({
    method: "GET",
    path: "/test/boom",
    description: "an unexpected failure",
    parameters: z.strictObject({}),
    permission: { kind: "anybody" },
    handler: async () => {
      throw new Error("kaboom: secret internals");
    },
  }),
  defineRoute({
    method: "GET",
    path: "/test/refuse",
    description: "a refusal",
    parameters: z.strictObject({}),
    permission: { kind: "anybody" },
    handler: async () => {
      throw new CairnError("CAIRN_E_TEST_BUSY", "the thing is busy\nsecond line", 409);
    },
  }),
  defineRoute({
    method: "POST",
    path: "/test/upload",
    description: "raw body",
    parameters: z.strictObject({}),
    permission: { kind: "authenticated" },
    rawBody: { maxBytes: 1024 },
    handler: async ({ body }) => ({ length: body?.length }),
  }),
  defineRoute({
    method: "GET",
    path: "/test/private/{area}",
    description: "needs Sys.Audit",
    parameters: z.strictObject({ area: safeId(1, 20) }),
    permission: { kind: "privileges", path: "/system/{area}", privileges: ["Sys.Audit"] },
    handler,
  }),
];

const user = tokenHeader("user@pbs");
let server: TestServer;
const log = captureLogger();
let access: StandInAccess;

test.before(async () => {
  access = new StandInAccess([
    { authId: "user@pbs", path: "/system/open", privileges: ["Sys.Audit"] },
  ]);
  server = await startTestServer({
    access,
    logger: log.logger,
    maxJsonBodyBytes: 4096,
    extraRoutes: () => testRoutes,
  });
});

test.after.always(async () => {
  await server?.stop();
});

// ---- route table and parameters, without a server ----

test("the route table prefers literal segments and reports allowed methods", (t) => {
  const table = new RouteTable([
    ...testRoutes,
    defineRoute({
      method: "GET",
      path: "/test/echo/special",
      description: "",
      parameters: z.strictObject({}),
      permission: { kind: "anybody" },
      handler,
    }),
  ]);
  const special = table.match("GET", ["test", "echo", "special"]);
  t.is(special.kind === "found" && special.route.path, "/test/echo/special");
  const other = table.match("GET", ["test", "echo", "bob"]);
  t.deepEqual(other.kind === "found" && other.pathParams, { name: "bob" });
  t.deepEqual(table.match("DELETE", ["test", "echo"]), { kind: "wrong-method", allowed: ["POST"] });
  t.deepEqual(table.match("GET", ["nothing"]), { kind: "none" });
  t.throws(() => table.add(testRoutes[0]!), { message: /defined twice/ });
});

test("path splitting decodes segments and refuses dot segments", (t) => {
  t.deepEqual(splitApiPath("/a/b%20c/"), ["a", "b c"]);
  t.throws(() => splitApiPath("/a/../b"), { instanceOf: ApiError, message: /'\.\.'/ });
  t.throws(() => splitApiPath("/a/%2e%2e/b"), { instanceOf: ApiError });
  t.throws(() => splitApiPath("/a/%zz"), { instanceOf: ApiError, message: /percent-encoding/ });
});

test("parameters from query, body and path merge, and a name given twice is refused", (t) => {
  const query = fieldsOf(new URLSearchParams("a=1&b=x&b=y"));
  t.deepEqual(query, { a: "1", b: ["x", "y"] });
  t.deepEqual(mergeParameters({ p: "v" }, query), { p: "v", a: "1", b: ["x", "y"] });
  const err = t.throws(() => mergeParameters({ a: "1" }, { a: "2" }), { instanceOf: ApiError });
  t.regex(err.message, /a: given more than once/);
});

test("validation names every bad parameter and its problem", (t) => {
  const schema = z.strictObject({ n: apiInteger(1, 5), f: apiBoolean(), s: safeId(3, 5) });
  t.deepEqual(validateParameters(schema, { n: "3", f: "yes", s: "abc" }), {
    n: 3,
    f: true,
    s: "abc",
  });
  const err = t.throws(
    () => validateParameters(schema, { n: "9", f: "maybe", extra: 1, other: 2 }),
    {
      instanceOf: ApiError,
    },
  );
  t.is(err.httpStatus, 400);
  t.deepEqual(err.context.errors, {
    n: "must be a whole number from 1 to 5",
    f: "must be a boolean (true/false, 1/0, yes/no, on/off)",
    s: "parameter is missing",
    extra: "unknown parameter",
    other: "unknown parameter",
  });
  t.regex(err.message, /n: must be a whole number from 1 to 5/);
});

test("bodies parse as JSON objects or forms; anything else is refused", (t) => {
  t.deepEqual(parseBody(Buffer.from('{"a":1}'), "application/json; charset=utf-8"), { a: 1 });
  t.deepEqual(parseBody(Buffer.from("a=1&b=2"), "application/x-www-form-urlencoded"), {
    a: "1",
    b: "2",
  });
  t.deepEqual(parseBody(Buffer.alloc(0), undefined), {});
  t.throws(() => parseBody(Buffer.from("[1]"), "application/json"), {
    message: /must be a JSON object/,
  });
  t.throws(() => parseBody(Buffer.from("{"), "application/json"), { message: /not valid JSON/ });
  const err = t.throws(() => parseBody(Buffer.from("x"), "text/plain"));
  t.is((err as ApiError).httpStatus, 415);
});

test("the API description is derived from the route schemas", (t) => {
  const description = describeApi(testRoutes);
  const echo = description.find((entry) => entry.path === "/test/echo/{name}")!;
  const schema = echo.parameters as {
    properties: Record<string, { type?: string; minimum?: number }>;
    required: string[];
    additionalProperties: boolean;
  };
  t.is(schema.properties.count?.type, "integer");
  t.is(schema.properties.count?.minimum, 1);
  t.deepEqual(schema.required, ["name"]);
  t.false(schema.additionalProperties);
  t.deepEqual(description.find((entry) => entry.path === "/test/upload")?.rawBody, {
    maxBytes: 1024,
  });
});

// ---- over the wire ----

test("a valid request gets the data envelope with typed parameters", async (t) => {
  const answer = await api(server.port, "GET", "/api2/json/test/echo/bob?count=3&flag=on&ns=a/b", {
    headers: user,
  });
  t.is(answer.status, 200);
  t.deepEqual(answer.json, { data: { name: "bob", count: 3, flag: true, ns: "a/b" } });
  t.regex(String(answer.headers["x-request-id"]), /^[0-9a-f]{8}$/);
});

test("JSON and form bodies both reach a POST handler", async (t) => {
  const json = await api(server.port, "POST", "/api2/json/test/echo", {
    headers: user,
    body: { text: "hi", count: 2 },
  });
  t.deepEqual(json.json, { data: { text: "hi", count: 2 } });
  const form = await api(server.port, "POST", "/api2/json/test/echo", {
    headers: { ...user, "content-type": "application/x-www-form-urlencoded" },
    body: "text=hi&count=2",
  });
  t.deepEqual(form.json, { data: { text: "hi", count: 2 } });
});

test("an unknown parameter is a 400 naming it", async (t) => {
  const answer = await api(server.port, "GET", "/api2/json/test/echo/bob?colour=red", {
    headers: user,
  });
  t.is(answer.status, 400);
  t.deepEqual(answer.json.errors, { colour: "unknown parameter" });
  t.regex(answer.json.message, /colour: unknown parameter/);
  t.regex(answer.statusText, /colour/);
});

test("a wrongly typed parameter is a 400 naming it and the rule", async (t) => {
  const answer = await api(server.port, "GET", "/api2/json/test/echo/bob?count=eleven", {
    headers: user,
  });
  t.is(answer.status, 400);
  t.deepEqual(answer.json.errors, { count: "must be a whole number from 1 to 10" });
});

test("malformed JSON is a 400 and the server stays healthy", async (t) => {
  const answer = await api(server.port, "POST", "/api2/json/test/echo", {
    headers: { ...user, "content-type": "application/json" },
    body: '{"text": "unterminated',
  });
  t.is(answer.status, 400);
  t.regex(answer.json.message, /not valid JSON/);
  t.is((await api(server.port, "GET", "/api2/json/ping")).status, 200);
});

test("a JSON body over the limit is a 413, announced or streamed", async (t) => {
  const big = { text: "x".repeat(8000) };
  const announced = await api(server.port, "POST", "/api2/json/test/echo", {
    headers: user,
    body: big,
  });
  t.is(announced.status, 413);
  t.regex(announced.json.message, /larger than 4096 bytes/);
  const chunked = await rawTls(
    server.port,
    `POST /api2/json/test/echo HTTP/1.1\r\nHost: x\r\nAuthorization: ${user.authorization}\r\nContent-Type: application/json\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n${"x".repeat(0x2000)}\r\n0\r\n\r\n`,
  );
  t.is(statusOf(chunked), 413);
  t.is((await api(server.port, "GET", "/api2/json/ping")).status, 200);
});

test("a raw body route gets the bytes and its own limit", async (t) => {
  const ok = await api(server.port, "POST", "/api2/json/test/upload", {
    headers: { ...user, "content-type": "application/octet-stream" },
    body: Buffer.alloc(1000, 7),
  });
  t.deepEqual(ok.json, { data: { length: 1000 } });
  const tooBig = await api(server.port, "POST", "/api2/json/test/upload", {
    headers: { ...user, "content-type": "application/octet-stream" },
    body: Buffer.alloc(1025, 7),
  });
  t.is(tooBig.status, 413);
});

test("missing credentials are a 401, missing privileges a 403", async (t) => {
  t.is((await api(server.port, "GET", "/api2/json/test/echo/bob")).status, 401);
  t.is(
    (
      await api(server.port, "GET", "/api2/json/test/echo/bob", {
        headers: { authorization: "PBSAPIToken=user@pbs:wrong" },
      })
    ).status,
    401,
  );
  t.is(
    (await api(server.port, "GET", "/api2/json/test/private/closed", { headers: user })).status,
    403,
  );
  const open = await api(server.port, "GET", "/api2/json/test/private/open", { headers: user });
  t.is(open.status, 200);
  const check = access.calls.find(
    (call) => call.permission.kind === "privileges" && call.params.area === "open",
  );
  t.truthy(check, "the permission check saw the validated parameters");
});

test("unknown paths are 404 and wrong methods 405 with Allow", async (t) => {
  t.is((await api(server.port, "GET", "/api2/json/nope", { headers: user })).status, 404);
  t.is((await api(server.port, "GET", "/elsewhere")).status, 404);
  const wrong = await api(server.port, "DELETE", "/api2/json/test/echo", { headers: user });
  t.is(wrong.status, 405);
  t.is(wrong.headers.allow, "POST");
});

test("a CairnError is answered with its status and message", async (t) => {
  const answer = await api(server.port, "GET", "/api2/json/test/refuse");
  t.is(answer.status, 409);
  t.is(answer.json.message, "the thing is busy\nsecond line");
  t.is(answer.json.code, "CAIRN_E_TEST_BUSY");
  t.is(answer.statusText, "the thing is busy second line");
});

test("an unexpected error is a 500 with a request id, logged, and the server survives", async (t) => {
  const answer = await api(server.port, "GET", "/api2/json/test/boom");
  t.is(answer.status, 500);
  const requestId = String(answer.headers["x-request-id"]);
  t.is(answer.json.message, `internal server error (request ${requestId})`);
  t.notRegex(answer.body.toString(), /kaboom/);
  const logged = log
    .lines()
    .find((line) => line.msg === "request failed" && line.req === requestId);
  t.truthy(logged);
  t.regex(JSON.stringify(logged), /kaboom/);
  t.is((await api(server.port, "GET", "/api2/json/ping")).status, 200);
});

test("after a refused body the connection stays usable for the next request", async (t) => {
  const body = "x".repeat(6000);
  const raw = await rawTls(
    server.port,
    `POST /api2/json/test/echo HTTP/1.1\r\nHost: x\r\nAuthorization: ${user.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
      "GET /api2/json/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  const statuses = [...raw.toString("latin1").matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  t.deepEqual(statuses, ["413", "200"]);
});
