import { spawnSync } from "node:child_process";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { REPO_ROOT, runCli } from "../helpers/cli.js";
import { api } from "../server/helpers/client.js";
import { type RunningDaemon, startDaemon, tableCells } from "./manager-daemon.js";

let daemon: RunningDaemon;

test.before(async () => {
  daemon = await startDaemon();
});

test.after.always(async () => {
  await daemon?.stop();
  await daemon?.remove();
});

function certFields(stdout: string): Record<string, string> {
  return Object.fromEntries(
    tableCells(stdout).map(([label, value]) => [label!.slice(0, -1), value!]),
  );
}

test.serial("the admin socket is in the state dir, for the daemon's user only", async (t) => {
  const socket = await lstat(join(daemon.stateDir, "api.sock"));
  t.true(socket.isSocket());
  t.is(socket.mode & 0o777, 0o600);
  t.is(socket.uid, process.getuid!());
});

test.serial("cert info shows the certificate the server presents", async (t) => {
  const result = daemon.manager(["cert", "info"]);
  t.is(result.status, 0, result.stderr);
  const fields = certFields(result.stdout);
  const presented = (await api(daemon.port, "GET", "/api2/json/ping")).fingerprint;
  t.is(fields.fingerprint, presented);
  t.is(fields.fingerprint, daemon.fingerprint);
  t.regex(fields.subject ?? "", /^O=Cairn Backup, OU=[0-9a-f]{32}, CN=/);
  t.regex(fields.san ?? "", /DNS:localhost/);
  t.is(fields["public key"], "rsaEncryption 2048 bits");
  const info = JSON.parse(daemon.manager(["cert", "info", "--output-format", "json"]).stdout);
  t.is(info.fingerprint, presented);
  t.deepEqual(Object.keys(fields), [
    "subject",
    "issuer",
    "san",
    "notbefore",
    "notafter",
    "public key",
    "fingerprint",
  ]);
});

test.serial("the state dir also comes from CAIRN_STATE_DIR", (t) => {
  const result = runCli("cairn-manager", ["datastore", "list", "--output-format", "json"], {
    CAIRN_STATE_DIR: daemon.stateDir,
  });
  t.is(result.status, 0, result.stderr);
  t.deepEqual(JSON.parse(result.stdout), []);
});

test.serial("bad arguments are refused with a clear message and exit status 1", (t) => {
  const cases: [string[], RegExp][] = [
    [
      ["datastore", "list", "--output-format", "xml"],
      /--output-format must be text, json or json-pretty, got 'xml'/,
    ],
    [
      ["prune", "store1", "--backup-type", "host", "--backup-id", "web", "--keep-last", "0"],
      /'--keep-last <n>' argument '0' is invalid\. must be a whole number from 1/,
    ],
    [
      ["prune", "store1", "--backup-type", "file", "--backup-id", "web"],
      /must be one of ct, host, vm/,
    ],
    [["acl", "update", "/", "Admin"], /required option '--auth-id <id>' not specified/],
    [
      ["user", "create", "bob@pbs", "--expire", "soon"],
      /must be epoch seconds \(0: never\) or a date/,
    ],
    [["garbage-collection", "status", "nosuchstore"], /^cairn-manager: .*nosuchstore/m],
    [
      ["datastore", "create", "x", "/tmp/x"],
      /^cairn-manager: parameter verification failed - name: must be 3 to 32 characters long\n$/,
    ],
  ];
  for (const [args, message] of cases) {
    const result = daemon.manager(args);
    t.is(result.status, 1, args.join(" "));
    t.regex(result.stderr, message, args.join(" "));
    t.is(result.stdout, "", args.join(" "));
  }
});

test.serial("a second daemon on the same state dir is refused while the first runs", (t) => {
  const second = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, "appliance", "cli", "cairn-server.ts"),
      ...["--config-dir", daemon.configDir, "--state-dir", daemon.stateDir],
      ...["--host", "127.0.0.1", "--port", "0"],
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  t.is(second.status, 1);
  t.regex(second.stderr, /another cairn-server already serves .*api\.sock/);
  t.is(daemon.manager(["task", "list"]).status, 0);
});

test.serial(
  "when the daemon is down, commands say how to start it; cert info reads the file",
  async (t) => {
    t.is(await daemon.stop(), 0);
    await t.throwsAsync(lstat(join(daemon.stateDir, "api.sock")), { code: "ENOENT" });
    const down = daemon.manager(["datastore", "list"]);
    t.is(down.status, 1);
    t.is(
      down.stderr,
      `cairn-manager: the Cairn server is not running (nothing listens on ${join(daemon.stateDir, "api.sock")}); start it with 'cairn-server --config-dir ${daemon.configDir} --state-dir ${daemon.stateDir}', or point --state-dir (or CAIRN_STATE_DIR) at the state directory of the running server\n`,
    );
    const embedded = runCli("cairn-manager", [
      "--embedded",
      join(daemon.root, "box"),
      "task",
      "list",
    ]);
    t.regex(embedded.stderr, /start it with 'cairn-server --embedded .*box'/);

    const cert = daemon.manager(["cert", "info"]);
    t.is(cert.status, 0, cert.stderr);
    t.is(certFields(cert.stdout).fingerprint, daemon.fingerprint);
    t.is(cert.stderr, `the server is not running; read ${join(daemon.configDir, "proxy.pem")}\n`);
  },
);
