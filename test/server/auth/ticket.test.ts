import { generateKeyPairSync, randomBytes } from "node:crypto";
import test from "ava";
import { createCsrfToken, verifyCsrfToken } from "../../../appliance/server/auth/csrf.js";
import { createTicket, verifyTicket } from "../../../appliance/server/auth/ticket.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const other = generateKeyPairSync("ed25519");
const NOW = 1_700_000_000;

test("a ticket has the PBS form and names its user", (t) => {
  const ticket = createTicket("alice@pbs", privateKey, NOW);
  t.regex(ticket, /^PBS:alice@pbs:6553F100::[A-Za-z0-9+/]+$/);
  t.is(NOW.toString(16).toUpperCase(), "6553F100");
  t.is(verifyTicket(ticket, publicKey, NOW), "alice@pbs");
});

test("a ticket is valid from 300 s before its time to 7200 s after", (t) => {
  const ticket = createTicket("alice@pbs", privateKey, NOW);
  t.is(verifyTicket(ticket, publicKey, NOW - 300), "alice@pbs");
  t.is(verifyTicket(ticket, publicKey, NOW + 7200), "alice@pbs");
  t.throws(() => verifyTicket(ticket, publicKey, NOW - 301), {
    message: "invalid ticket - timestamp newer than expected",
  });
  const expired = t.throws(() => verifyTicket(ticket, publicKey, NOW + 7201));
  t.is(expired?.message, "invalid ticket - expired");
  t.is((expired as unknown as { httpStatus: number }).httpStatus, 401);
});

test("a tampered ticket or one from another key is refused", (t) => {
  const ticket = createTicket("alice@pbs", privateKey, NOW);
  const forged = ticket.replace("alice@pbs", "root@pam");
  t.throws(() => verifyTicket(forged, publicKey, NOW), { message: /bad signature/ });
  const later = ticket.replace("6553F100", "6553F200");
  t.throws(() => verifyTicket(later, publicKey, NOW), { message: /bad signature/ });
  const lower = ticket.replace("6553F100", "6553f100");
  t.throws(() => verifyTicket(lower, publicKey, NOW), { message: /bad signature/ });
  t.throws(() => verifyTicket(ticket, other.publicKey, NOW), { message: /bad signature/ });
  const sig = ticket.slice(ticket.lastIndexOf(":") + 1);
  const flipped = `${ticket.slice(0, -sig.length)}${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
  t.throws(() => verifyTicket(flipped, publicKey, NOW), { message: /bad signature/ });
});

test("malformed tickets are refused with what is wrong", (t) => {
  const ticket = createTicket("alice@pbs", privateKey, NOW);
  t.throws(() => verifyTicket("garbage", publicKey, NOW), { message: /expected PBS:/ });
  t.throws(() => verifyTicket(ticket.replace("PBS:", "PVE:"), publicKey, NOW), {
    message: /wrong prefix "PVE"/,
  });
  t.throws(() => verifyTicket(ticket.replace("::", ":"), publicKey, NOW), {
    message: /expected PBS:/,
  });
  t.throws(() => verifyTicket(ticket.replace("6553F100", "XYZ"), publicKey, NOW), {
    message: /not hexadecimal/,
  });
  t.throws(() => verifyTicket(ticket.replace("alice@pbs", "nobody"), publicKey, NOW), {
    message: /does not name a user/,
  });
});

test("CSRF tokens are <HEX8>:<base64 HMAC> and bound to user, secret and time", (t) => {
  const secret = randomBytes(32);
  const csrf = createCsrfToken("alice@pbs", secret, NOW);
  t.regex(csrf, /^6553F100:[A-Za-z0-9+/]{43}$/);
  t.notThrows(() => verifyCsrfToken(csrf, "alice@pbs", secret, NOW + 7200));
  t.notThrows(() => verifyCsrfToken(csrf, "alice@pbs", secret, NOW - 300));
  t.throws(() => verifyCsrfToken(csrf, "bob@pbs", secret, NOW), { message: /bad signature/ });
  t.throws(() => verifyCsrfToken(csrf, "alice@pbs", randomBytes(32), NOW), {
    message: /bad signature/,
  });
  t.throws(() => verifyCsrfToken(csrf, "alice@pbs", secret, NOW + 7201), { message: /too old/ });
  t.throws(() => verifyCsrfToken(csrf, "alice@pbs", secret, NOW - 301), { message: /newer/ });
  t.throws(() => verifyCsrfToken("6553F100", "alice@pbs", secret, NOW), { message: /expected/ });
  const moved = csrf.replace("6553F100", "6553F101");
  t.throws(() => verifyCsrfToken(moved, "alice@pbs", secret, NOW), { message: /bad signature/ });
});
