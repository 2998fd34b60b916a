import test from "ava";
import { formatRepository, parseRepository, serverKey } from "../../appliance/client/repository.js";

const parses = test.macro((t, text: string, expected: object) => {
  t.deepEqual(parseRepository(text), expected);
});

test("a bare datastore takes every default", parses, "store1", {
  authId: "root@pam",
  host: "localhost",
  port: 8007,
  store: "store1",
});
test("host and datastore", parses, "backup.example.com:store1", {
  authId: "root@pam",
  host: "backup.example.com",
  port: 8007,
  store: "store1",
});
test("a user whose realm comes before the host", parses, "user@pbs@host:store1", {
  authId: "user@pbs",
  host: "host",
  port: 8007,
  store: "store1",
});
test("an API token with host and port", parses, "user@pbs!tok@host:8008:store1", {
  authId: "user@pbs!tok",
  host: "host",
  port: 8008,
  store: "store1",
});
test("an IPv4 address with port", parses, "root@pam@192.0.2.7:1234:s", {
  authId: "root@pam",
  host: "192.0.2.7",
  port: 1234,
  store: "s",
});
test("an IPv6 address in brackets", parses, "[fe80::1]:store1", {
  authId: "root@pam",
  host: "fe80::1",
  port: 8007,
  store: "store1",
});
test("an IPv6 address with user and port", parses, "a@pbs@[2001:db8::2]:8007:store1", {
  authId: "a@pbs",
  host: "2001:db8::2",
  port: 8007,
  store: "store1",
});

const refuses = test.macro((t, text: string, reason: RegExp) => {
  t.throws(() => parseRepository(text), { code: "CAIRN_E_CLIENT_BAD_REPOSITORY", message: reason });
});

test("an empty string", refuses, "", /datastore name is missing/);
test("a trailing colon", refuses, "host:", /datastore name is missing/);
test("an IPv6 address without brackets", refuses, "fe80::1:store1", /not a host .*brackets/);
test("an unclosed bracket", refuses, "[fe80::1:store1", /closing '\]'/);
test("a port out of range", refuses, "host:70000:store1", /'70000' is not a port/);
test("an auth id without realm", refuses, "user@host:store1", /'user' is not an auth id/);

test("the server key and the canonical form bracket IPv6 hosts", (t) => {
  const repository = parseRepository("a@pbs@[::1]:9000:s1");
  t.is(serverKey(repository), "[::1]:9000");
  t.is(formatRepository(repository), "a@pbs@[::1]:9000:s1");
  t.deepEqual(parseRepository(formatRepository(repository)), repository);
});
