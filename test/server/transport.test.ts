import net from "node:net";
import tls from "node:tls";
import test from "ava";
import { redirectHost } from "../../appliance/server/transport/redirect-server.js";
import { api, rawTls, statusOf } from "./helpers/client.js";
import { startTestServer, type TestServer } from "./helpers/test-server.js";

let server: TestServer;

test.before(async () => {
  server = await startTestServer();
});

test.after.always(async () => {
  await server?.stop();
});

function handshake(options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: server.port,
      rejectUnauthorized: false,
      ...options,
    });
    socket.once("secureConnect", () => {
      const protocol = socket.getProtocol() ?? "";
      socket.end();
      resolve(protocol);
    });
    socket.once("error", reject);
  });
}

/** One plain-HTTP exchange: the raw answer until the server closes. */
function plainHttp(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(request));
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

test("a TLS 1.3 handshake succeeds", async (t) => {
  t.is(await handshake({ minVersion: "TLSv1.3" }), "TLSv1.3");
});

test("a TLS 1.2 handshake is refused", async (t) => {
  const err = await t.throwsAsync(handshake({ maxVersion: "TLSv1.2" }));
  t.regex(
    String((err as NodeJS.ErrnoException).code ?? err?.message),
    /PROTOCOL_VERSION|protocol/i,
  );
  // the server is still fine afterwards
  t.is((await api(server.port, "GET", "/api2/json/ping")).status, 200);
});

test("plain HTTP GET is redirected to HTTPS on the same port and path", async (t) => {
  const answer = await plainHttp(
    "GET /api2/json/ping?x=1 HTTP/1.1\r\nHost: backup.example:8007\r\n\r\n",
  );
  t.regex(answer, /^HTTP\/1\.1 301 /);
  t.regex(
    answer,
    new RegExp(
      `\\r\\nLocation: https://backup\\.example:${server.port}/api2/json/ping\\?x=1\\r\\n`,
      "i",
    ),
  );
});

test("plain HTTP POST is redirected with 308, keeping the method", async (t) => {
  const answer = await plainHttp(
    "POST /api2/json/x HTTP/1.1\r\nHost: [::1]:8007\r\nContent-Length: 0\r\n\r\n",
  );
  t.regex(answer, /^HTTP\/1\.1 308 /);
  t.regex(answer, new RegExp(`Location: https://\\[::1\\]:${server.port}/api2/json/x\\r\\n`, "i"));
});

test("a hostile Host header does not reach the Location header", async (t) => {
  const answer = await plainHttp('GET / HTTP/1.1\r\nHost: evil.example/"<x>\r\n\r\n');
  t.regex(answer, /^HTTP\/1\.1 301 /);
  t.notRegex(answer, /evil/);
});

test("redirectHost keeps names and IP literals and refuses the rest", (t) => {
  t.is(redirectHost("pbs.example.com:8007"), "pbs.example.com");
  t.is(redirectHost("[fe80::1]:8007"), "[fe80::1]");
  t.is(redirectHost("10.0.0.1"), "10.0.0.1");
  t.is(redirectHost("a b"), undefined);
  t.is(redirectHost(undefined), undefined);
});

test("several requests share one keep-alive TLS connection", async (t) => {
  const request = "GET /api2/json/ping HTTP/1.1\r\nHost: x\r\n\r\n";
  const raw = await rawTls(
    server.port,
    `${request}${request}GET /api2/json/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  );
  const answers = raw.toString("latin1").match(/HTTP\/1\.1 200 OK/g) ?? [];
  t.is(answers.length, 3);
});

test("an oversized request head is answered with 431", async (t) => {
  const raw = await rawTls(
    server.port,
    `GET /api2/json/ping HTTP/1.1\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`,
  );
  t.is(statusOf(raw), 431);
  t.is((await api(server.port, "GET", "/api2/json/ping")).status, 200);
});

test("garbage over TLS gets 400 and the server stays up", async (t) => {
  const raw = await rawTls(server.port, "\x00\x01\x02 nonsense\r\n\r\n");
  t.is(statusOf(raw), 400);
  t.is((await api(server.port, "GET", "/api2/json/ping")).status, 200);
});

test("a dual-stack listener on :: answers IPv4 and IPv6 clients", async (t) => {
  let dual: TestServer;
  try {
    dual = await startTestServer({ host: "::" });
  } catch (err) {
    t.log(`no IPv6 on this machine: ${(err as Error).message}`);
    t.pass();
    return;
  }
  try {
    t.is((await api(dual.port, "GET", "/api2/json/ping")).status, 200);
    const v6 = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect(
        { host: "::1", port: dual.port, rejectUnauthorized: false },
        () => {
          resolve(socket.getProtocol() ?? "");
          socket.end();
        },
      );
      socket.on("error", reject);
    });
    t.is(v6, "TLSv1.3");
  } finally {
    await dual.stop();
  }
});
