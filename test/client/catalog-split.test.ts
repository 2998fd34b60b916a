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
import test from "ava";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { runCairn } from "./fixtures/cli.js";
import { type ClientTestServer, startClientServer } from "./fixtures/server.js";

const MTIME = 1_600_000_000;
const snapshotOf = (id: string) => `host/${id}/2023-11-14T22:13:20Z`;

/** Files of several sizes (one over many chunks), an empty directory, links, odd names. */
async function variedTree(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>([
    ["a/b/deep.txt", Buffer.from("deep down\n")],
    ["a/empty", Buffer.alloc(0)],
    ["a/large.bin", pseudoRandomBuffer(3 * 1024 * 1024 + 5, "large")],
    ["name with spaces ü.md", Buffer.from("# odd name\n")],
    ["top.bin", Buffer.from("0123456789")],
  ]);
  await mkdir(join(root, "a", "b"), { recursive: true });
  await mkdir(join(root, "empty-dir"));
  for (const [path, content] of files) {
    await writeFile(join(root, path), content);
    await chmod(join(root, path), 0o640);
    await utimes(join(root, path), MTIME, MTIME);
  }
  await link(join(root, "top.bin"), join(root, "a", "top-link.bin"));
  await symlink("a/b/deep.txt", join(root, "latest"));
  return files;
}

async function backup(server: ClientTestServer, src: string, id: string, mode: string) {
  return runCairn(
    [
      "backup",
      `root.pxar:${src}`,
      "--backup-id",
      id,
      "--backup-time",
      "1700000000",
      "--change-detection-mode",
      mode,
    ],
    server.env,
  );
}

test("catalog dump of a split snapshot reads its .mpxar and equals the legacy catalog's", async (t) => {
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  await variedTree(src);
  for (const [id, mode] of [
    ["legacy", "legacy"],
    ["split", "metadata"],
  ]) {
    const run = await backup(server, src, id!, mode!);
    t.is(run.status, 0, run.stderr);
  }

  const legacy = await runCairn(["catalog", "dump", snapshotOf("legacy")], server.env);
  const split = await runCairn(["catalog", "dump", snapshotOf("split"), "root.pxar"], server.env);
  const whole = await runCairn(["catalog", "dump", snapshotOf("split")], server.env);

  t.is(legacy.status, 0, legacy.stderr);
  t.is(split.status, 0, split.stderr);
  t.is(whole.status, 0, whole.stderr);
  t.deepEqual(split.stdout.split("\n"), legacy.stdout.split("\n"));
  t.is(whole.stdout, split.stdout);
  t.true(legacy.stdout.includes('d "/root.pxar.didx/empty-dir"\n'));
  t.true(legacy.stdout.includes('f "/root.pxar.didx/a/large.bin" 3145733 2020-09-13T12:26:40Z\n'));

  const missing = await runCairn(["catalog", "dump", snapshotOf("split"), "etc.pxar"], server.env);
  t.is(missing.status, 1);
  t.regex(missing.stderr, /has no etc\.pxar\.didx \(it has root\.mpxar\.didx, root\.ppxar\.didx\)/);
});

test("a catalog shell on a split snapshot browses its .mpxar and restores a file from its .ppxar", async (t) => {
  const server = await startClientServer(t);
  const src = join(server.scratch, "src");
  const files = await variedTree(src);
  const run = await backup(server, src, "split", "data");
  t.is(run.status, 0, run.stderr);
  const target = join(server.scratch, "restored");
  const script = [
    "ls",
    "cd a",
    "ls",
    "stat large.bin",
    "stat top-link.bin",
    "find *.txt",
    "select large.bin",
    "list-selected",
    `restore-selected ${target}`,
  ].join("\n");

  const shell = await runCairn(
    ["catalog", "shell", snapshotOf("split"), "root.pxar"],
    server.env,
    script,
  );

  t.is(shell.status, 0, shell.stderr);
  t.deepEqual(shell.stdout.split("\n"), [
    "a/",
    "empty-dir/",
    "latest@",
    "name with spaces ü.md",
    "top.bin",
    "b/",
    "empty",
    "large.bin",
    "top-link.bin",
    "  File: /a/large.bin",
    "  Size: 3145733  Type: regular file",
    `  Mode: 0640 (-rw-r-----)  Uid: ${process.getuid!()}  Gid: ${process.getgid!()}`,
    "Modify: 2020-09-13T12:26:40.000000000Z",
    "  File: /a/top-link.bin",
    "  Size: 10  Type: regular file",
    `  Mode: 0640 (-rw-r-----)  Uid: ${process.getuid!()}  Gid: ${process.getgid!()}`,
    "Modify: 2020-09-13T12:26:40.000000000Z",
    "/a/b/deep.txt",
    "/a/large.bin",
    `restored 1 files (3.00 MiB) and 1 directories into ${target}`,
    "",
  ]);
  t.deepEqual(await readdir(target), ["a"]);
  t.deepEqual(await readdir(join(target, "a")), ["large.bin"]);
  t.true((await readFile(join(target, "a", "large.bin"))).equals(files.get("a/large.bin")!));
});
