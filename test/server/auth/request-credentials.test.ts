import test from "ava";
import {
  extractCredentials,
  parseApiTokenHeader,
} from "../../../appliance/server/auth/request-credentials.js";

const TICKET = "PBS:alice@pbs:6553F100::c2lnbmF0dXJl";

test("the ticket comes from PBSAuthCookie, percent-decoded, with the CSRF header", (t) => {
  t.deepEqual(
    extractCredentials({
      cookie: `other=1; PBSAuthCookie=${encodeURIComponent(TICKET)}`,
      csrfpreventiontoken: "6553F100:abc",
    }),
    { kind: "ticket", ticket: TICKET, csrfToken: "6553F100:abc" },
  );
  t.deepEqual(extractCredentials({ Cookie: `PBSAuthCookie=${TICKET}` }), {
    kind: "ticket",
    ticket: TICKET,
    csrfToken: undefined,
  });
});

test("__Host-PBSAuthCookie is preferred, also across several Cookie headers", (t) => {
  const got = extractCredentials({
    cookie: ["PBSAuthCookie=old", `__Host-PBSAuthCookie=${TICKET}`],
  });
  t.is(got?.kind === "ticket" ? got.ticket : undefined, TICKET);
});

test("a ticket cookie wins over an Authorization header", (t) => {
  const got = extractCredentials({
    cookie: `PBSAuthCookie=${TICKET}`,
    authorization: "PBSAPIToken=u@pbs!t:secret",
  });
  t.is(got?.kind, "ticket");
});

test("API tokens are read with '=' or a space, the secret percent-decoded", (t) => {
  t.deepEqual(parseApiTokenHeader("PBSAPIToken=u@pbs!ci:0a1b-c2"), {
    tokenId: "u@pbs!ci",
    secret: "0a1b-c2",
  });
  t.deepEqual(parseApiTokenHeader("PBSAPIToken u@pbs!ci:a%3Ab%20c"), {
    tokenId: "u@pbs!ci",
    secret: "a:b c",
  });
  t.deepEqual(extractCredentials({ authorization: "PBSAPIToken=u@pbs!ci:s" }), {
    kind: "token",
    tokenId: "u@pbs!ci",
    secret: "s",
  });
});

test("other Authorization schemes are not ours; malformed token headers are 401", (t) => {
  t.is(parseApiTokenHeader("Basic dXNlcjpwdw=="), undefined);
  t.is(parseApiTokenHeader("PBSAPITokenX=u@pbs!t:s"), undefined);
  t.is(extractCredentials({ authorization: "Bearer x" }), undefined);
  t.is(extractCredentials({}), undefined);
  const err = t.throws(() => parseApiTokenHeader("PBSAPIToken=u@pbs!t"), {
    message: /expected PBSAPIToken=<id>:<secret>/,
  });
  t.is((err as unknown as { httpStatus: number }).httpStatus, 401);
  t.throws(() => parseApiTokenHeader("PBSAPIToken=u@pbs!t:%E0%A4%A"), {
    message: /not valid percent-encoding/,
  });
});
