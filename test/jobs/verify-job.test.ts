import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import type { Datastore } from "../../appliance/datastore/datastore.js";
import { createJobs, type Jobs } from "../../appliance/server/routes/jobs-setup.js";
import { api } from "../server/helpers/client.js";
import { addSnapshot, addStore } from "../server/helpers/snapshots.js";
import { tokenHeader } from "../server/helpers/stand-in-access.js";
import { startTestServer } from "../server/helpers/test-server.js";

const ROOT = tokenHeader("root@pam");
const DAY = 86_400;
const TIMES = [1_700_000_000, 1_700_000_000 + DAY];

test("a verify job skips verified snapshots until they are outdated, and verifies all without ignore-verified", async (t) => {
  let clock = Date.now();
  const root = await mkdtemp(join(tmpdir(), "cairn-verify-job-"));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  let jobs!: Jobs;
  const server = await startTestServer({
    root,
    extraRoutes: (services) => {
      jobs = createJobs(services, {
        configDir: join(root, "config"),
        stateDir: join(root, "state"),
        now: () => clock,
      });
      return jobs.routes;
    },
  });
  t.teardown(() => server.stop());
  const store: Datastore = await addStore(server.configDir, "store1", join(root, "store1"));
  for (const time of TIMES) {
    await addSnapshot(store, { type: "host", id: "web", time, owner: "root@pam" });
  }
  const call = async (method: string, path: string, body?: object) => {
    const answer = await api(server.port, method, `/api2/json${path}`, {
      headers: ROOT,
      ...(body !== undefined && { body }),
    });
    t.is(answer.status, 200, answer.body.toString());
    return answer.json.data;
  };
  /** Runs the job as `/admin/verify/{id}/run` does; its summary line and exit status. */
  const runJob = async () => {
    const upid: string = await call("POST", "/admin/verify/weekly/run");
    await jobs.scheduler.idle();
    const log = (await server.server.tasks.readLog(upid, 0, 0)).lines.map((line) => line.t);
    const summary = log.find((line) => /verified \d+ snapshot\(s\)/.test(line));
    return {
      upid,
      summary: summary?.replace(/^.*?: verified/, "verified"),
      status: (await server.server.tasks.status(upid)).exitstatus,
    };
  };
  const verifyStates = async () =>
    Promise.all(
      TIMES.map(async (time) => {
        const manifest = await store.readManifest({ ns: [], type: "host", id: "web", time });
        return (manifest.unprotected as { verify_state?: { upid: string; state: string } })
          .verify_state;
      }),
    );

  await call("POST", "/config/verify", { id: "weekly", store: "store1", "outdated-after": 2 });
  const first = await runJob();
  t.is(first.summary, "verified 2 snapshot(s), skipped 0 by the filter");
  t.is(first.status, "OK");
  t.deepEqual(await verifyStates(), [
    { upid: first.upid, state: "ok" },
    { upid: first.upid, state: "ok" },
  ]);

  // verified a day ago: not outdated after 2 days, so both are skipped
  clock += DAY * 1000;
  const second = await runJob();
  t.is(second.summary, "verified 0 snapshot(s), skipped 2 by the filter");
  t.deepEqual(await verifyStates(), [
    { upid: first.upid, state: "ok" },
    { upid: first.upid, state: "ok" },
  ]);

  // three whole days after the first run (the clock started a little before it): outdated
  clock += (2 * DAY + 3600) * 1000;
  const third = await runJob();
  t.is(third.summary, "verified 2 snapshot(s), skipped 0 by the filter");
  t.deepEqual(
    (await verifyStates()).map((state) => state?.upid),
    [third.upid, third.upid],
  );

  // ignore-verified false verifies everything every time
  await call("PUT", "/config/verify/weekly", {
    "ignore-verified": false,
    delete: ["outdated-after"],
  });
  const fourth = await runJob();
  t.is(fourth.summary, "verified 2 snapshot(s), skipped 0 by the filter");
  const listed = await call("GET", "/admin/verify");
  t.like(listed[0], {
    id: "weekly",
    "ignore-verified": false,
    "last-run-upid": fourth.upid,
    "last-run-state": "OK",
  });
});
