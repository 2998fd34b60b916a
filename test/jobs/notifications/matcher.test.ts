import test from "ava";
import {
  fieldMatches,
  matcherMatches,
  targetsFor,
} from "../../../appliance/jobs/notifications/matcher.js";
import { jobNotification } from "../../../appliance/jobs/notifications/notification.js";
import {
  emptyNotificationsConfig,
  type NotificationsConfig,
} from "../../../appliance/jobs/notifications/notification-config.js";

const run = (kind: string, exitstatus: string) =>
  jobNotification({
    kind,
    id: kind === "gc" ? "store1" : "daily",
    store: "store1",
    upid: "UPID:node:00000001:00000002:00000003:00000004:prunejob:store1\\x3adaily:root@pam:",
    exitstatus,
    log: Array.from({ length: 50 }, (_, i) =>
      i % 10 === 3 ? `2026-01-01T00:00:00+00:00: WARN: problem ${i}` : `line ${i}`,
    ),
    hostname: "vault",
    timestamp: 1_800_000_000,
  });

test("job results map to severities, with the log's tail and its warnings", (t) => {
  const ok = run("prune", "OK");
  t.is(ok.severity, "info");
  t.is(ok.title, "Prune job 'daily' on datastore store1 succeeded");
  t.is(run("gc", "WARNINGS: 2").severity, "warning");
  t.is(run("gc", "WARNINGS: 2").title, "Garbage collection of datastore store1 had warnings");
  const failed = run("verify", "verification failed");
  t.is(failed.severity, "error");
  t.deepEqual(failed.fields, {
    type: "verify",
    hostname: "vault",
    "job-id": "daily",
    datastore: "store1",
  });
  t.is(failed.log!.length, 30);
  t.is(failed.log![0], "line 20");
  t.deepEqual(
    failed.problems,
    [3, 13, 23, 33, 43].map((i) => `2026-01-01T00:00:00+00:00: WARN: problem ${i}`),
  );
  t.regex(failed.body, /^Result: verification failed$/m);
});

test("match-field rules: exact lists, regexes, missing fields", (t) => {
  const fields = { type: "verify", datastore: "store1" };
  t.true(fieldMatches("exact:type=gc,verify", fields));
  t.false(fieldMatches("exact:type=gc", fields));
  t.true(fieldMatches("regex:datastore=^store[0-9]$", fields));
  t.false(fieldMatches("exact:pool=rpool", fields));
});

test("matchers default to warnings and errors; mode, invert-match and disable are honoured", (t) => {
  const failed = run("verify", "boom");
  const ok = run("verify", "OK");
  t.true(matcherMatches({ target: ["a"] }, failed));
  t.false(matcherMatches({ target: ["a"] }, ok));
  t.true(matcherMatches({ target: ["a"], "match-severity": ["info"] }, ok));
  const gcOnly = { target: ["a"], "match-field": ["exact:type=gc"] };
  t.false(matcherMatches(gcOnly, failed));
  t.true(matcherMatches({ ...gcOnly, mode: "any" }, failed));
  t.true(matcherMatches({ ...gcOnly, "invert-match": true }, failed));

  const config: NotificationsConfig = {
    ...emptyNotificationsConfig(),
    webhook: { hook: { url: "http://127.0.0.1:1/" }, off: { url: "http://x/", disable: true } },
    sendmail: { mail: { mailto: ["a@example.com"] } },
    matcher: {
      all: { target: ["hook", "off"] },
      verify: { target: ["mail", "hook"], "match-field": ["exact:type=verify"] },
      muted: { target: ["mail"], "match-severity": ["info"], disable: true },
    },
  };
  t.deepEqual(targetsFor(config, failed), ["hook", "mail"]);
  t.deepEqual(targetsFor(config, ok), []);
});
