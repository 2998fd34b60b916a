import {
  chmod,
  link,
  mkdir,
  readdir,
  readFile,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import test from "ava";
import { backupCommand } from "../../appliance/cli/client-backup.js";
import { catalogDumpCommand, catalogShellCommand } from "../../appliance/cli/client-catalog.js";
import { createKeyConfig, serializeKeyConfig } from "../../appliance/format/key-config.js";
import { runCairn } from "./fixtures/cli.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { type ClientTestServer, startClientServer } from "./fixtures/server.js";

const SNAPSHOT = "host/catalog/2023-11-14T22:13:20Z";
const MTIME = 1_600_000_000; // 2020-09-13T12:26:40Z

/** A small tree with files, a hard link and a symlink, backed up once. */
async function backedUpTree(t: Parameters<typeof startClientServer>[0]): Promise<ClientTestServer> {
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  await mkdir(join(src, "docs", "old"), { recursive: true });
  const files: [string, string][] = [
    ["docs/report.txt", "quarterly numbers\n"],
    ["docs/old/draft.txt", "first draft\n"],
    ["docs/notes.md", "# notes\n"],
    ["top.bin", "0123456789"],
  ];
  for (const [path, content] of files) {
    await writeFile(join(src, path), content);
    await chmod(join(src, path), 0o644);
    await utimes(join(src, path), MTIME, MTIME);
  }
  await link(join(src, "top.bin"), join(src, "top-link.bin"));
  await symlink("docs/report.txt", join(src, "latest"));
  const backup = await runCairn(
    ["backup", `root.pxar:${src}`, "--backup-id", "catalog", "--backup-time", "1700000000"],
    server.env,
  );
  t.is(backup.status, 0, backup.stderr);
  return server;
}

test("catalog dump lists every entry with its type, and files with size and mtime", async (t) => {
  const server = await backedUpTree(t);

  const dump = await runCairn(["catalog", "dump", SNAPSHOT], server.env);

  t.is(dump.status, 0, dump.stderr);
  t.deepEqual(dump.stdout.split("\n"), [
    'd "/root.pxar.didx"',
    'd "/root.pxar.didx/docs"',
    'f "/root.pxar.didx/docs/notes.md" 8 2020-09-13T12:26:40Z',
    'd "/root.pxar.didx/docs/old"',
    'f "/root.pxar.didx/docs/old/draft.txt" 12 2020-09-13T12:26:40Z',
    'f "/root.pxar.didx/docs/report.txt" 18 2020-09-13T12:26:40Z',
    'l "/root.pxar.didx/latest"',
    'f "/root.pxar.didx/top-link.bin" 10 2020-09-13T12:26:40Z',
    'h "/root.pxar.didx/top.bin"',
    "",
  ]);

  const one = await runCairn(["catalog", "dump", SNAPSHOT, "root.pxar"], server.env);
  t.is(one.status, 0, one.stderr);
  t.is(one.stdout, dump.stdout);

  const missing = await runCairn(["catalog", "dump", SNAPSHOT, "etc.pxar"], server.env);
  t.is(missing.status, 1);
  t.regex(missing.stderr, /has no archive etc\.pxar\.didx \(it has root\.pxar\.didx\)/);
});

test("a catalog shell session from stdin browses, selects and restores a file", async (t) => {
  const server = await backedUpTree(t);
  const target = join(server.scratch, "restored");
  const script = [
    "pwd",
    "ls",
    "cd docs",
    "pwd",
    "ls",
    "stat report.txt",
    "cd /nope",
    "find *.txt",
    "select report.txt",
    "select ../latest",
    "deselect /latest",
    "list-selected",
    `restore-selected ${target}`,
    "exit",
    "ls", // not run: the session ended
  ].join("\n");

  const shell = await runCairn(["catalog", "shell", SNAPSHOT, "root.pxar"], server.env, script);

  t.is(shell.status, 1, "one command failed");
  t.is(shell.stderr, "error: no such entry: /nope\n");
  t.deepEqual(shell.stdout.split("\n"), [
    "/",
    "docs/",
    "latest@",
    "top-link.bin",
    "top.bin",
    "/docs",
    "notes.md",
    "old/",
    "report.txt",
    "  File: /docs/report.txt",
    "  Size: 18  Type: regular file",
    `  Mode: 0644 (-rw-r--r--)  Uid: ${process.getuid!()}  Gid: ${process.getgid!()}`,
    "Modify: 2020-09-13T12:26:40.000000000Z",
    "/docs/old/draft.txt",
    "/docs/report.txt",
    "/docs/report.txt",
    `restored 1 files (18 B) and 1 directories into ${target}`,
    "",
  ]);
  t.deepEqual(await readdir(target), ["docs"]);
  t.deepEqual(await readdir(join(target, "docs")), ["report.txt"]);
  t.is(await readFile(join(target, "docs", "report.txt"), "utf8"), "quarterly numbers\n");
});

test("an encrypted snapshot's catalog is read with its key, and refused without", async (t) => {
  const server = await startClientServer(t);
  const env = capturedEnvironment(server.env);
  const src = join(server.scratch, "src");
  await mkdir(src);
  await writeFile(join(src, "secret.txt"), "classified\n");
  await utimes(join(src, "secret.txt"), MTIME, MTIME);
  const keyfile = join(server.scratch, "key.json");
  const config = await createKeyConfig(Buffer.alloc(32, 7), { kdf: "none" });
  await writeFile(keyfile, serializeKeyConfig(config), { mode: 0o600 });
  await backupCommand(
    [`root.pxar:${src}`],
    { backupId: "catalog", backupTime: "1700000000", keyfile, cryptMode: "encrypt" },
    env,
  );

  await t.throwsAsync(
    catalogDumpCommand(SNAPSHOT, undefined, {}, capturedEnvironment(server.env)),
    {
      message:
        /catalog\.pcat1\.didx of host\/catalog\/2023-11-14T22:13:20Z is encrypted: pass --keyfile/,
    },
  );
  await catalogDumpCommand(SNAPSHOT, "root.pxar", { keyfile }, env);
  t.is(
    env.output().toString(),
    'd "/root.pxar.didx"\nf "/root.pxar.didx/secret.txt" 11 2020-09-13T12:26:40Z\n',
  );

  const shellEnv = capturedEnvironment(server.env);
  const target = join(server.scratch, "restored");
  const script = Readable.from(["ls\n", "stat secret.txt\n", `restore ${target} *.txt\n`]);
  const failed = await catalogShellCommand(SNAPSHOT, "root.pxar", { keyfile }, shellEnv, script);
  t.is(failed, 0, shellEnv.notes.join("\n"));
  t.regex(shellEnv.output().toString(), /^secret\.txt\n {2}File: \/secret\.txt\n {2}Size: 11 /);
  t.is(await readFile(join(target, "secret.txt"), "utf8"), "classified\n");
});

test("cairn mount explains that it is not available and what to use instead", async (t) => {
  const run = await runCairn(["mount", SNAPSHOT, "root.pxar", "/mnt"], {});
  t.is(run.status, 1);
  t.regex(run.stderr, /^cairn: cairn mount is not available: there is no maintained FUSE binding/);
  t.regex(run.stderr, /'cairn catalog shell SNAPSHOT ARCHIVE'/);
  t.regex(run.stderr, /'cairn restore SNAPSHOT ARCHIVE TARGET --pattern GLOB'/);
});
