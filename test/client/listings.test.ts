import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { backupCommand } from "../../appliance/cli/client-backup.js";
import { listCommand } from "../../appliance/cli/client-list.js";
import { loginCommand, logoutCommand } from "../../appliance/cli/client-login.js";
import { pruneCommand } from "../../appliance/cli/client-prune.js";
import {
  notesShowCommand,
  notesUpdateCommand,
  protectedShowCommand,
  protectedUpdateCommand,
  snapshotForgetCommand,
  snapshotListCommand,
} from "../../appliance/cli/client-snapshot.js";
import { statusCommand } from "../../appliance/cli/client-status.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

const DAY = 86_400;
const T0 = 1_700_000_000;
const snapshot = (time: number) => `host/box/${new Date(time * 1000).toISOString().slice(0, 19)}Z`;

async function threeSnapshots(t: Parameters<typeof startClientServer>[0]) {
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  await mkdir(src);
  await writeFile(join(src, "f"), "content\n");
  for (const day of [0, 1, 2]) {
    const env = capturedEnvironment(server.env);
    await backupCommand(
      [`root.pxar:${src}`],
      { backupId: "box", backupTime: String(T0 + day * DAY) },
      env,
    );
  }
  return server;
}

test("groups and snapshots are listed as tables and as JSON", async (t) => {
  const server = await threeSnapshots(t);
  const text = capturedEnvironment(server.env);
  await listCommand({ outputFormat: "text" }, text);
  const lines = text.output().toString().split("\n");
  t.regex(lines[0]!, /^group\s+last snapshot\s+backup-count\s+owner\s+files$/);
  t.regex(
    lines[2]!,
    /^host\/box\s+2023-11-16T22:13:20Z\s+3\s+alice@pbs\s+root\.pxar catalog\.pcat1 index\.json$/,
  );

  const json = capturedEnvironment(server.env);
  await snapshotListCommand("host/box", { outputFormat: "json" }, json);
  const items = JSON.parse(json.output().toString()) as { "backup-time": number }[];
  t.deepEqual(
    items.map((item) => item["backup-time"]),
    [T0, T0 + DAY, T0 + 2 * DAY],
  );

  const pretty = capturedEnvironment(server.env);
  await statusCommand({ outputFormat: "json-pretty" }, pretty);
  const status = JSON.parse(pretty.output().toString()) as { total: number; avail: number };
  t.true(status.total > 0 && status.avail > 0);
  t.true(pretty.output().toString().includes('\n  "total": '));
});

test("notes and protection are shown and changed; a protected snapshot survives prune", async (t) => {
  const server = await threeSnapshots(t);
  const env = () => capturedEnvironment(server.env);
  await notesUpdateCommand(snapshot(T0), "before the upgrade", {}, env());
  const notes = env();
  await notesShowCommand(snapshot(T0), { outputFormat: "text" }, notes);
  t.is(notes.output().toString(), "before the upgrade\n");

  await protectedUpdateCommand(snapshot(T0), "true", {}, env());
  const shown = env();
  await protectedShowCommand(snapshot(T0), { outputFormat: "json" }, shown);
  t.is(shown.output().toString(), "true\n");

  const dry = env();
  const planned = await pruneCommand(
    "host/box",
    { outputFormat: "text", keepLast: 1, dryRun: true },
    dry,
  );
  const plan = Object.fromEntries(planned.map((item) => [item["backup-time"], item.keep]));
  t.deepEqual(plan, { [T0]: true, [T0 + DAY]: false, [T0 + 2 * DAY]: true });
  t.regex(dry.output().toString(), /would remove/);
  t.is((await server.store.listSnapshots([], { type: "host", id: "box" })).length, 3);

  await pruneCommand("host/box", { outputFormat: "json", keepLast: 1 }, env());
  const left = await server.store.listSnapshots([], { type: "host", id: "box" });
  t.deepEqual(
    left.map((info) => info.time),
    [T0, T0 + 2 * DAY],
  );

  await snapshotForgetCommand(snapshot(T0 + 2 * DAY), {}, env());
  t.deepEqual(
    (await server.store.listSnapshots([], { type: "host", id: "box" })).map((info) => info.time),
    [T0],
  );
  await t.throwsAsync(pruneCommand("host/box", { outputFormat: "text" }, env()), {
    message: /at least one --keep/,
  });
});

test("login keeps a ticket that later commands use without the password; logout forgets it", async (t) => {
  const server = await startClientServer(t);
  const { CAIRN_PASSWORD: _, ...withoutPassword } = server.env;
  await t.throwsAsync(listCommand({ outputFormat: "json" }, capturedEnvironment(withoutPassword)), {
    code: "CAIRN_E_CLIENT_LOGIN_FAILED",
    message: /no password for alice@pbs: set CAIRN_PASSWORD/,
  });
  await loginCommand({}, capturedEnvironment(server.env));
  const cache = JSON.parse(
    await readFile(join(server.env.XDG_RUNTIME_DIR!, "cairn", "tickets.json"), "utf8"),
  );
  t.deepEqual(Object.keys(cache), [`alice@pbs 127.0.0.1:${server.port}`]);
  await listCommand({ outputFormat: "json" }, capturedEnvironment(withoutPassword));
  await logoutCommand({}, capturedEnvironment(withoutPassword));
  await t.throwsAsync(listCommand({ outputFormat: "json" }, capturedEnvironment(withoutPassword)), {
    code: "CAIRN_E_CLIENT_LOGIN_FAILED",
  });
});

test("an API token authenticates with its secret as the password", async (t) => {
  const server = await startClientServer(t);
  const env = {
    ...server.env,
    CAIRN_REPOSITORY: server.tokenRepository,
    CAIRN_PASSWORD: server.tokenSecret,
  };
  const src = join(server.scratch, "src");
  await mkdir(src);
  await writeFile(join(src, "f"), "by token\n");
  await backupCommand(
    [`root.pxar:${src}`],
    { backupId: "tok", backupTime: String(T0) },
    capturedEnvironment(env),
  );
  const out = capturedEnvironment(env);
  await listCommand({ outputFormat: "json" }, out);
  t.like(JSON.parse(out.output().toString())[0], { "backup-id": "tok", owner: "alice@pbs!client" });
  const wrong = { ...env, CAIRN_PASSWORD: "not the secret" };
  await t.throwsAsync(listCommand({ outputFormat: "json" }, capturedEnvironment(wrong)), {
    message: /\(401\)/,
  });
});
