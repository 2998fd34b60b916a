import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { runCairn } from "./fixtures/cli.js";
import { startClientServer } from "./fixtures/server.js";

test("cairn backup, list, snapshot files and restore through the executable", async (t) => {
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  await mkdir(src);
  await writeFile(join(src, "hello.txt"), "hello from the CLI\n");

  const backup = await runCairn(
    ["backup", `root.pxar:${src}`, "--backup-id", "cli", "--backup-time", "1700000000"],
    server.env,
  );
  t.is(backup.status, 0, backup.stderr);
  t.regex(
    backup.stderr,
    /backup host\/cli\/2023-11-14T22:13:20Z: .* read, .* uploaded .* deduplicated, [\d.]+ s, [\d.]+ MB\/s/,
  );
  t.is(backup.stdout, "");

  const list = await runCairn(["list", "--output-format", "json"], server.env);
  t.is(list.status, 0, list.stderr);
  t.like(JSON.parse(list.stdout)[0], {
    "backup-type": "host",
    "backup-id": "cli",
    "backup-count": 1,
  });

  const files = await runCairn(["snapshot", "files", "host/cli/2023-11-14T22:13:20Z"], server.env);
  t.is(files.status, 0, files.stderr);
  t.regex(files.stdout, /^filename\s+crypt-mode\s+size$/m);
  t.regex(files.stdout, /^root\.pxar\.didx\s+none\s+\d+$/m);
  t.regex(files.stdout, /^index\.json\.blob\s+/m);

  const target = join(server.scratch, "restored");
  const restore = await runCairn(
    ["restore", "host/cli/2023-11-14T22:13:20Z", "root.pxar", target],
    server.env,
  );
  t.is(restore.status, 0, restore.stderr);
  t.is(await readFile(join(target, "hello.txt"), "utf8"), "hello from the CLI\n");
});

test("cairn exits non-zero with one clear line when the server's certificate is unknown", async (t) => {
  const server = await startClientServer(t);
  const { CAIRN_FINGERPRINT: _, ...env } = server.env;
  const run = await runCairn(["list"], env);
  t.is(run.status, 1);
  t.regex(
    run.stderr,
    /^cairn: the certificate of 127\.0\.0\.1:\d+ is not trusted .*its fingerprint is ([0-9a-f]{2}:){31}[0-9a-f]{2}/,
  );
});

test("a bad repository string is refused before anything connects", async (t) => {
  const run = await runCairn(["list", "--repository", "fe80::1:store1"], { HOME: "/nonexistent" });
  t.is(run.status, 1);
  t.regex(
    run.stderr,
    /repository 'fe80::1:store1': 'fe80::1' is not a host \(write IPv6 addresses in brackets\)/,
  );
});
