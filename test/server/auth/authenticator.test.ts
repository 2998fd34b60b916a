import test from "ava";
import {
  createToken,
  createUser,
  setPassword,
  updateToken,
  updateUser,
} from "../../../appliance/server/auth/accounts.js";
import { CHEAP_COST, START_MS, tempAccess } from "./fixtures.js";

const ADDRESS = "198.51.100.7";

async function withAlice(t: Parameters<typeof tempAccess>[0], options = {}) {
  const env = await tempAccess(t, options);
  await createUser(env.access.config, "alice@pbs", {}, "alice-secret", CHEAP_COST);
  return env;
}

function cookieHeaders(ticket: string, csrf?: string): Record<string, string> {
  return {
    cookie: `PBSAuthCookie=${encodeURIComponent(ticket)}`,
    ...(csrf === undefined ? {} : { csrfpreventiontoken: csrf }),
  };
}

test("login with the right password gives a ticket and CSRF token for the user", async (t) => {
  const { access } = await withAlice(t);
  const result = await access.authenticator.login("alice@pbs", "alice-secret", ADDRESS);
  t.is(result.username, "alice@pbs");
  t.regex(result.ticket, /^PBS:alice@pbs:[0-9A-F]{8}::/);
  t.regex(result.CSRFPreventionToken, /^[0-9A-F]{8}:/);
  const auth = await access.authenticate({
    method: "POST",
    headers: cookieHeaders(result.ticket, result.CSRFPreventionToken),
    remoteAddress: ADDRESS,
  });
  t.deepEqual(auth, { authId: "alice@pbs", userId: "alice@pbs" });
});

test("wrong passwords, unknown users and users without password fail alike", async (t) => {
  const { access } = await withAlice(t);
  await createUser(access.config, "nopw@pbs", {});
  for (const [username, password] of [
    ["alice@pbs", "wrong"],
    ["mallory@pbs", "alice-secret"],
    ["nopw@pbs", ""],
    ["not a user id", "x"],
    ["root@pam", "anything"],
  ]) {
    const err = await t.throwsAsync(
      access.authenticator.login(username!, password!, `10.0.0.${username!.length}`),
    );
    t.is(err?.message, "authentication failed - invalid credentials", username);
    t.is((err as unknown as { httpStatus: number }).httpStatus, 401);
  }
});

test("a disabled or expired user can't log in or use its ticket", async (t) => {
  const { access, clock } = await withAlice(t);
  const { ticket } = await access.authenticator.login("alice@pbs", "alice-secret", ADDRESS);
  await updateUser(access.config, "alice@pbs", { enable: false });
  await t.throwsAsync(access.authenticator.login("alice@pbs", "alice-secret", ADDRESS), {
    message: /invalid credentials/,
  });
  const get = { method: "GET", headers: cookieHeaders(ticket), remoteAddress: ADDRESS };
  await t.throwsAsync(access.authenticate(get), { message: "user account disabled or expired" });
  await updateUser(access.config, "alice@pbs", { enable: true, expire: START_MS / 1000 + 60 });
  t.truthy(await access.authenticate(get));
  clock.ms += 60_000;
  await t.throwsAsync(access.authenticate(get), { message: "user account disabled or expired" });
});

test("root@pam logs in with the password set at setup", async (t) => {
  const { access } = await tempAccess(t);
  await t.throwsAsync(access.authenticator.login("root@pam", "setup-pw", ADDRESS));
  await setPassword(access.config, "root@pam", "setup-pw", CHEAP_COST);
  const result = await access.authenticator.login("root@pam", "setup-pw", ADDRESS);
  t.is(result.username, "root@pam");
});

test("a valid ticket as password renews it; another user's ticket does not", async (t) => {
  const { access, clock } = await withAlice(t);
  await createUser(access.config, "bob@pbs", {}, "bob-secret", CHEAP_COST);
  const first = await access.authenticator.login("alice@pbs", "alice-secret", ADDRESS);
  clock.ms += 3600_000;
  const renewed = await access.authenticator.login("alice@pbs", first.ticket, ADDRESS);
  t.not(renewed.ticket, first.ticket);
  await t.throwsAsync(access.authenticator.login("bob@pbs", first.ticket, ADDRESS), {
    message: /invalid credentials/,
  });
  clock.ms += 7201_000;
  await t.throwsAsync(access.authenticator.login("alice@pbs", first.ticket, ADDRESS), {
    message: /invalid credentials/,
  });
  const headers = cookieHeaders(renewed.ticket);
  await t.throwsAsync(access.authenticate({ method: "GET", headers, remoteAddress: ADDRESS }), {
    message: "invalid ticket - expired",
  });
});

test("non-GET requests with a ticket need the user's CSRF token; GET does not", async (t) => {
  const { access } = await withAlice(t);
  await createUser(access.config, "bob@pbs", {}, "bob-secret", CHEAP_COST);
  const alice = await access.authenticator.login("alice@pbs", "alice-secret", ADDRESS);
  const bob = await access.authenticator.login("bob@pbs", "bob-secret", ADDRESS);
  const request = (method: string, csrf?: string) =>
    access.authenticate({
      method,
      headers: cookieHeaders(alice.ticket, csrf),
      remoteAddress: ADDRESS,
    });
  t.is((await request("GET"))?.authId, "alice@pbs");
  t.is((await request("DELETE", alice.CSRFPreventionToken))?.authId, "alice@pbs");
  const missing = await t.throwsAsync(request("POST"), {
    message: "missing CSRF prevention token",
  });
  t.is((missing as unknown as { code: string }).code, "CAIRN_E_AUTH_BAD_CSRF");
  await t.throwsAsync(request("PUT", bob.CSRFPreventionToken), { message: /bad signature/ });
});

test("a tampered ticket cookie is refused with 401", async (t) => {
  const { access } = await withAlice(t);
  const { ticket } = await access.authenticator.login("alice@pbs", "alice-secret", ADDRESS);
  const forged = ticket.replace("alice@pbs", "root@pam");
  const err = await t.throwsAsync(
    access.authenticate({ method: "GET", headers: cookieHeaders(forged), remoteAddress: ADDRESS }),
  );
  t.is(err?.message, "invalid ticket - bad signature");
  t.is((err as unknown as { httpStatus: number }).httpStatus, 401);
});

test("no credentials means no caller (not an error)", async (t) => {
  const { access } = await tempAccess(t);
  t.is(
    await access.authenticate({ method: "POST", headers: {}, remoteAddress: ADDRESS }),
    undefined,
  );
});

test("API tokens authenticate with their secret, without CSRF", async (t) => {
  const { access } = await withAlice(t);
  const { tokenid, value } = await createToken(access.config, "alice@pbs", "backup", {});
  t.is(tokenid, "alice@pbs!backup");
  t.regex(value, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const byHeader = (authorization: string, method = "POST") =>
    access.authenticate({ method, headers: { authorization }, remoteAddress: ADDRESS });
  const expected = { authId: "alice@pbs!backup", userId: "alice@pbs", tokenName: "backup" };
  t.deepEqual(await byHeader(`PBSAPIToken=${tokenid}:${value}`), expected);
  t.deepEqual(
    await byHeader(`PBSAPIToken ${tokenid}:${encodeURIComponent(value).replaceAll("-", "%2D")}`),
    expected,
  );
  const wrong = await t.throwsAsync(byHeader(`PBSAPIToken=${tokenid}:${value.replace(/.$/, "x")}`));
  t.is(wrong?.message, "wrong secret for API token alice@pbs!backup");
  t.is((wrong as unknown as { httpStatus: number }).httpStatus, 401);
  await t.throwsAsync(byHeader(`PBSAPIToken=alice@pbs!other:${value}`), {
    message: "unknown API token alice@pbs!other",
  });
  await t.throwsAsync(byHeader(`PBSAPIToken=alice:${value}`), { message: /invalid API token id/ });
});

test("the token secret is stored only as a hash", async (t) => {
  const { access } = await withAlice(t);
  const { value } = await createToken(access.config, "alice@pbs", "backup", {});
  const stored = (await access.config.tokenSecrets.read()).get("alice@pbs!backup");
  t.truthy(stored);
  t.false(stored!.includes(value));
  t.true(stored!.startsWith("$scrypt$"));
});

test("a disabled or expired token, or a token of a disabled user, is refused", async (t) => {
  const { access, clock } = await withAlice(t);
  const { tokenid, value } = await createToken(access.config, "alice@pbs", "backup", {});
  const use = () =>
    access.authenticate({
      method: "GET",
      headers: { authorization: `PBSAPIToken=${tokenid}:${value}` },
      remoteAddress: ADDRESS,
    });
  const message = "user account or API token disabled or expired";
  await updateToken(access.config, tokenid, { enable: false });
  await t.throwsAsync(use(), { message });
  await updateToken(access.config, tokenid, { enable: true, expire: START_MS / 1000 + 10 });
  t.truthy(await use());
  clock.ms += 10_000;
  await t.throwsAsync(use(), { message });
  await updateToken(access.config, tokenid, { expire: 0 });
  await updateUser(access.config, "alice@pbs", { enable: false });
  await t.throwsAsync(use(), { message });
});

test("failed logins are rate-limited per address with 429; others still get in", async (t) => {
  const { access, clock } = await withAlice(t);
  for (let i = 0; i < 5; i++) {
    await t.throwsAsync(access.authenticator.login("alice@pbs", "guess", ADDRESS), {
      message: /invalid credentials/,
    });
  }
  const limited = await t.throwsAsync(
    access.authenticator.login("alice@pbs", "alice-secret", ADDRESS),
  );
  t.is((limited as unknown as { httpStatus: number }).httpStatus, 429);
  t.truthy(await access.authenticator.login("alice@pbs", "alice-secret", "198.51.100.8"));
  clock.ms += 1000;
  t.truthy(await access.authenticator.login("alice@pbs", "alice-secret", ADDRESS));
});

test("failed logins are reported to the log with the reason", async (t) => {
  const entries: Array<Record<string, unknown>> = [];
  const { access } = await withAlice(t, {
    log: { warn: (details: Record<string, unknown>) => entries.push(details) },
  });
  await t.throwsAsync(access.authenticator.login("alice@pbs", "nope", ADDRESS));
  t.deepEqual(entries, [
    { username: "alice@pbs", remoteAddress: ADDRESS, reason: "wrong password" },
  ]);
});

test("parallel guesses from one address are capped at the allowance", async (t) => {
  const { access } = await withAlice(t);
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, () => access.authenticator.login("alice@pbs", "guess", ADDRESS)),
  );
  const statuses = results.map((r) =>
    r.status === "rejected" ? (r.reason as { httpStatus: number }).httpStatus : 200,
  );
  t.is(statuses.filter((s) => s === 401).length, 5);
  t.is(statuses.filter((s) => s === 429).length, 7);
});
