import { spawn } from "node:child_process";
import { chmod, chown, lstat, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { ArchiveError } from "../../../appliance/client/archive/errors.js";
import { extractArchive } from "../../../appliance/client/archive/extractor.js";
import { getInodeFlags } from "../../../appliance/native/fsops.js";
import { pseudoRandomBuffer } from "../../helpers/generators.js";
import { archiveTree, decoderOf, hasCommand, isRoot, run, tempDir } from "./fixtures.js";
import { listTree } from "./tree-listing.js";

const asRoot = isRoot ? test.serial : test.skip;

test("restore patterns pick entries; directories on the way are made as needed", async (t) => {
  const base = await tempDir(t);
  const src = join(base, "src");
  for (const path of [
    "a/keep.txt",
    "a/drop.bin",
    "b/c/keep.txt",
    "b/skip/keep.txt",
    "d/x.bin",
    "top.txt",
  ]) {
    await mkdir(join(src, path, ".."), { recursive: true });
    await writeFile(join(src, path), path);
  }
  const dst = join(base, "dst");
  const counters = await extractArchive(decoderOf(await archiveTree(src)), dst, {
    patterns: ["*.txt", "!/b/skip/**"],
  });
  t.deepEqual(
    (await listTree(dst)).map((entry) => entry.path),
    ["/", "/a", "/a/keep.txt", "/b", "/b/c", "/b/c/keep.txt", "/top.txt"],
  );
  t.is(counters.files, 3);
  t.is(counters.skipped, 3);
  // a matched directory brings everything below it
  const whole = join(base, "whole");
  await extractArchive(decoderOf(await archiveTree(src)), whole, { patterns: ["/d"] });
  t.deepEqual(
    (await listTree(whole)).map((entry) => entry.path),
    ["/", "/d", "/d/x.bin"],
  );
});

test("chattr flags are archived and restored", async (t) => {
  const base = await tempDir(t);
  const src = join(base, "src");
  await mkdir(src);
  await writeFile(join(src, "nodump"), "x");
  if (!(await hasCommand("chattr"))) return t.pass("chattr (e2fsprogs) not installed");
  try {
    await run("chattr", ["+d", join(src, "nodump")]);
  } catch (error) {
    return t.pass(`this file system has no inode flags: ${(error as Error).message}`);
  }
  const dst = join(base, "dst");
  await extractArchive(decoderOf(await archiveTree(src)), dst);
  const { open } = await import("node:fs/promises");
  const handle = await open(join(dst, "nodump"), "r");
  try {
    t.is(getInodeFlags(handle.fd) & 0x40, 0x40);
  } finally {
    await handle.close();
  }
});

asRoot("a full target file system stops the restore with a clear error", async (t) => {
  const base = await tempDir(t);
  const src = join(base, "src");
  const dst = join(base, "dst");
  await mkdir(src);
  await mkdir(dst);
  await writeFile(join(src, "big.bin"), pseudoRandomBuffer(3 * 1024 * 1024, "full"));
  try {
    await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dst]);
  } catch (error) {
    return t.pass(`cannot mount a tmpfs here: ${(error as Error).message}`);
  }
  t.teardown(() => run("umount", [dst]).then(() => undefined));
  const error = await t.throwsAsync(extractArchive(decoderOf(await archiveTree(src)), dst), {
    instanceOf: ArchiveError,
  });
  t.is(error?.kind, "no-space");
  t.regex(
    error!.message,
    /no space left on the restore target while writing \/big\.bin \(ENOSPC\)/,
  );
});

asRoot(
  "as a normal user the restore does what it can, one warning per thing it cannot",
  async (t) => {
    const NOBODY = 65534;
    const base = await tempDir(t);
    await chmod(base, 0o755);
    const src = join(base, "src");
    const dst = join(base, "dst");
    await mkdir(src);
    await mkdir(dst);
    await writeFile(join(src, "mine"), "restorable\n");
    await writeFile(join(src, "owned"), "owned by someone else\n");
    await writeFile(join(src, "caps"), "capable\n");
    await run("mkfifo", [join(src, "fifo")]);
    await run("mknod", [join(src, "char-dev"), "c", "1", "3"]);
    for (const path of [".", "mine", "caps", "fifo", "char-dev"])
      await chown(join(src, path), NOBODY, NOBODY);
    await chown(join(src, "owned"), 1234, 5678);
    await run("setcap", ["cap_net_raw+ep", join(src, "caps")]).catch(() => t.log("setcap missing"));
    await chown(dst, NOBODY, NOBODY);
    const archived = await archiveTree(src);

    const result = await runAsUser(archived.archive, dst, NOBODY);
    const capsSet = (await listTree(src)).some((entry) => "security.capability" in entry.xattrs);
    t.deepEqual(
      result.warnings.map((w) => `${w.kind} ${w.path}`).sort(),
      [...(capsSet ? ["fcaps /caps"] : []), "device /char-dev", "owner /owned"].sort(),
    );
    t.is(result.counters.skipped, 1);
    t.is(await readFile(join(dst, "owned"), "utf8"), "owned by someone else\n");
    t.is((await lstat(join(dst, "owned"))).uid, NOBODY);
    t.true((await lstat(join(dst, "fifo"))).isFIFO());
    await t.throwsAsync(lstat(join(dst, "char-dev")), { code: "ENOENT" });
  },
);

interface ChildResult {
  warnings: { kind: string; path: string }[];
  counters: { skipped: number };
}

async function runAsUser(archive: Buffer, target: string, id: number): Promise<ChildResult> {
  const script = new URL("./extract-as-user.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import=tsx", script, target, String(id), String(id)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (piece) => (stdout += piece));
  child.stderr.on("data", (piece) => (stderr += piece));
  child.stdin.end(archive.toString("base64"));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`restore as uid ${id} failed (${code}): ${stderr}`);
  return JSON.parse(stdout) as ChildResult;
}
