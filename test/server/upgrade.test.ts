import http2, { type ClientHttp2Session } from "node:http2";
import tls from "node:tls";
import test from "ava";
import { z } from "zod";
import { CairnError } from "../../appliance/errors.js";
import { safeId } from "../../appliance/server/api/schema-types.js";
import { defineUpgrade } from "../../appliance/server/transport/upgrades.js";
import { api } from "./helpers/client.js";
import { StandInAccess, tokenHeader } from "./helpers/stand-in-access.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

const PROTOCOL = "dummy-protocol-v1";
const user = tokenHeader("user@pbs");
let server: TestServer;
const events: string[] = [];

const dummy = defineUpgrade({
  protocol: PROTOCOL,
  path: "/backup",
  description: "answers GET /hello with the caller and its store",
  parameters: z.strictObject({ store: safeId(3, 32) }),
  permission: { kind: "privileges", path: "/datastore/{store}", privileges: ["Datastore.Backup"] },
  accept: async ({ params, auth }) => {
    if (params.store === "locked")
      throw new CairnError("CAIRN_E_TEST_LOCKED", "backup group is locked", 409);
    events.push(`accept ${params.store}`);
    return {
      serve(session) {
        session.on("stream", (stream, headers) => {
          stream.respond({ ":status": 200, "content-type": "application/json" });
          stream.end(
            JSON.stringify({
              data: { path: headers[":path"], user: auth.authId, store: params.store },
            }),
          );
        });
        session.on("close", () => events.push(`closed ${params.store}`));
      },
      abandon: () => events.push(`abandoned ${params.store}`),
    };
  },
});

test.before(async () => {
  const access = new StandInAccess([
    { authId: "user@pbs", path: "/datastore", privileges: ["Datastore.Backup"] },
  ]);
  server = await startTestServer({ access });
  server.server.registerUpgrade(dummy);
});

test.after.always(async () => {
  await server?.stop();
});

interface UpgradeAnswer {
  head: string;
  socket: tls.TLSSocket;
}

/** Sends `request` on a new TLS connection and reads the HTTP/1.1 answer head. */
function sendUpgrade(request: string, first?: string): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: "127.0.0.1", port: server.port, rejectUnauthorized: false },
      () => {
        socket.write((first ?? "") + request);
      },
    );
    let buffer = Buffer.alloc(0);
    let skip = first === undefined ? 0 : 1;
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString("latin1");
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (skip > 0) {
          if (buffer.length < end + 4 + length) return;
          buffer = buffer.subarray(end + 4 + length);
          skip--;
          continue;
        }
        socket.off("data", onData);
        socket.pause();
        const rest = buffer.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        resolve({
          head: `${head}\r\n\r\n${head.startsWith("HTTP/1.1 101") ? "" : rest.toString()}`,
          socket,
        });
        return;
      }
    };
    socket.on("data", onData);
    socket.on("error", reject);
  });
}

function upgradeRequest(query: string, headers: string): string {
  return `GET /api2/json/backup?${query} HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`;
}

/** One HTTP/2 request over an upgraded socket. */
function http2Get(
  socket: tls.TLSSocket,
  path: string,
): Promise<{ status: number; body: Record<string, unknown>; session: ClientHttp2Session }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect("https://localhost", { createConnection: () => socket });
    session.on("error", reject);
    const stream = session.request({ ":path": path, ":method": "GET" });
    let status = 0;
    let body = "";
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    stream.on("end", () => resolve({ status, body: JSON.parse(body), session }));
    stream.on("error", reject);
  });
}

const auth = `Authorization: ${user.authorization}\r\n`;

for (const withConnection of [true, false]) {
  test(`an upgrade ${withConnection ? "with" : "without"} 'Connection: upgrade' switches to HTTP/2`, async (t) => {
    const store = withConnection ? "store-a" : "store-b";
    const { head, socket } = await sendUpgrade(
      upgradeRequest(
        `store=${store}`,
        `${withConnection ? "Connection: upgrade\r\n" : ""}Upgrade: ${PROTOCOL}\r\n${auth}`,
      ),
    );
    t.regex(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    t.regex(head, /\r\nConnection: upgrade\r\n/i);
    t.regex(head, new RegExp(`\\r\\nUpgrade: ${PROTOCOL}\\r\\n`, "i"));
    const answer = await http2Get(socket, "/hello");
    t.is(answer.status, 200);
    t.deepEqual(answer.body, { data: { path: "/hello", user: "user@pbs", store } });
    await new Promise<void>((resolve) => answer.session.close(resolve));
    t.true(events.includes(`accept ${store}`));
  });
}

test("an upgrade as the second request of a keep-alive connection works with 'Connection: upgrade'", async (t) => {
  const first = "GET /api2/json/ping HTTP/1.1\r\nHost: localhost\r\n\r\n";
  const { head, socket } = await sendUpgrade(
    upgradeRequest("store=store-c", `Connection: upgrade\r\nUpgrade: ${PROTOCOL}\r\n${auth}`),
    first,
  );
  t.regex(head, /^HTTP\/1\.1 101 /);
  const answer = await http2Get(socket, "/again");
  t.like(answer.body, { data: { path: "/again" } });
  answer.session.destroy();
});

test("a later request without 'Connection: upgrade' is told what is missing", async (t) => {
  const first = "GET /api2/json/ping HTTP/1.1\r\nHost: localhost\r\n\r\n";
  const { head, socket } = await sendUpgrade(
    upgradeRequest("store=store-d", `Upgrade: ${PROTOCOL}\r\n${auth}`),
    first,
  );
  socket.destroy();
  t.regex(head, /^HTTP\/1\.1 400 /);
  t.regex(head, /needs 'Upgrade: dummy-protocol-v1'/);
});

const refusals: [string, string, number, RegExp][] = [
  [
    "a wrong Upgrade value",
    upgradeRequest("store=store1", `Upgrade: ${PROTOCOL}-x\r\n${auth}`),
    400,
    /needs 'Upgrade: dummy-protocol-v1'/,
  ],
  [
    "an Upgrade value differing in case",
    upgradeRequest("store=store1", `Upgrade: DUMMY-protocol-v1\r\n${auth}`),
    400,
    /needs 'Upgrade/,
  ],
  [
    "no credentials",
    upgradeRequest("store=store1", `Upgrade: ${PROTOCOL}\r\n`),
    401,
    /authentication required/,
  ],
  [
    "a missing parameter",
    upgradeRequest("", `Upgrade: ${PROTOCOL}\r\n${auth}`),
    400,
    /store: parameter is missing/,
  ],
  [
    "an unknown parameter",
    upgradeRequest("store=store1&x=1", `Upgrade: ${PROTOCOL}\r\n${auth}`),
    400,
    /x: unknown parameter/,
  ],
  [
    "a missing privilege",
    upgradeRequest(
      "store=store1",
      `Upgrade: ${PROTOCOL}\r\nAuthorization: PBSAPIToken=other@pbs:secret\r\n`,
    ),
    403,
    /permission check failed/,
  ],
  [
    "a refusal by the protocol",
    upgradeRequest("store=locked", `Upgrade: ${PROTOCOL}\r\n${auth}`),
    409,
    /backup group is locked/,
  ],
  [
    "POST",
    `POST /api2/json/backup?store=store1 HTTP/1.1\r\nHost: x\r\nUpgrade: ${PROTOCOL}\r\n${auth}\r\n`,
    405,
    /takes GET only/,
  ],
];

for (const [name, request, status, message] of refusals) {
  test(`an upgrade with ${name} is answered ${status} over HTTP/1.1`, async (t) => {
    const { head, socket } = await sendUpgrade(request);
    socket.destroy();
    t.regex(head, new RegExp(`^HTTP/1\\.1 ${status} `));
    t.regex(head, message);
  });
}

test("a plain GET of the upgrade path gets a 400 that explains the upgrade", async (t) => {
  const answer = await api(server.port, "GET", "/api2/json/backup?store=store1", { headers: user });
  t.is(answer.status, 400);
  t.regex(answer.json.message, /needs 'Upgrade: dummy-protocol-v1'/);
});

test("a registered path cannot be registered twice", (t) => {
  t.throws(() => server.server.registerUpgrade(dummy), { message: /already registered/ });
});
