import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { chmod, mkdir, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { buildEveryKindTree } from "./every-kind-tree.js";
import { archiveTree, isRoot, run, tempDir } from "./fixtures.js";
import { archivePerEntry } from "./per-entry-walk.js";

/** The read-aheads compared: each entry at its turn, batches of three, and the default. */
const READ_AHEADS = [0, 3, 32];

/** Every kind of entry, and the shapes the batched reads treat apart. */
async function buildTree(src: string): Promise<string[]> {
  const missing = await buildEveryKindTree(src);
  // wider than a batch
  for (let d = 0; d < 3; d++) {
    await mkdir(join(src, "wide", `d${d}`), { recursive: true });
    await writeFile(join(src, "wide", `d${d}`, "inner"), `inner ${d}\n`);
  }
  for (let f = 0; f < 40; f++) await writeFile(join(src, "wide", `f${f}`), `file ${f}\n`);
  // more names than a batch lists ahead
  await mkdir(join(src, "long"));
  for (let f = 0; f < 600; f++) await writeFile(join(src, "long", `n${f}`), "");
  // deeper than a batch descends
  const levels = Array.from({ length: 40 }, (_, level) => `l${level}`);
  await mkdir(join(src, "deep", ...levels), { recursive: true });
  await writeFile(join(src, "deep", ...levels, "bottom"), "bottom\n");
  // a .pxarexclude excluding nothing: its directory's children are not read with it
  await mkdir(join(src, "with-exclude-file", "sub"), { recursive: true });
  await writeFile(join(src, "with-exclude-file", ".pxarexclude"), "# nothing excluded\n");
  await writeFile(join(src, "with-exclude-file", "sub", "file"), "kept\n");
  // a directory only root may read
  await mkdir(join(src, "closed"));
  await writeFile(join(src, "closed", "inside"), "hidden\n");
  await chmod(join(src, "closed"), 0o000);
  return missing;
}

test("batched reads archive every kind of entry byte for byte as per-entry calls did", async (t) => {
  const src = await tempDir(t);
  for (const note of await buildTree(src)) t.log(`fixture: ${note}`);
  const oracle = await archivePerEntry(src);
  for (const readAhead of READ_AHEADS) {
    const walked = await archiveTree(src, { readAhead });
    t.true(walked.archive.equals(oracle.archive), `archive, read-ahead ${readAhead}`);
    t.deepEqual(
      walked.warnings.map((warning) => warning.message),
      oracle.warnings,
      `read-ahead ${readAhead}`,
    );
  }
});

const asRoot = isRoot ? test : test.skip;

asRoot(
  "as a user, unreadable entries give the warnings and archive per-entry calls gave",
  async (t) => {
    const src = await tempDir(t);
    await buildTree(src);
    await chmod(src, 0o755);
    const script = new URL("./walk-both-ways.ts", import.meta.url).pathname;
    const output = await new Promise<string>((resolve, reject) => {
      const args = ["--import", "tsx", script, src, "65534", "65534", ...READ_AHEADS.map(String)];
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (piece: Buffer) => {
        out += piece;
      });
      child.stderr.on("data", (piece: Buffer) => {
        err += piece;
      });
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
    });
    const { oracle, walks } = JSON.parse(output) as {
      oracle: { digest: string; warnings: string[] };
      walks: { readAhead: number; digest: string; warnings: string[] }[];
    };
    t.true(
      oracle.warnings.some((warning) => /^\/secret: cannot read: EACCES/.test(warning)),
      oracle.warnings.join("\n"),
    );
    t.true(oracle.warnings.some((warning) => /^\/closed: cannot read: EACCES/.test(warning)));
    for (const walk of walks) {
      t.is(walk.digest, oracle.digest, `archive, read-ahead ${walk.readAhead}`);
      t.deepEqual(walk.warnings, oracle.warnings, `read-ahead ${walk.readAhead}`);
    }
  },
);

/** Files that vanish or change type as their turn comes, and entries gone before theirs. */
async function buildChangingTree(src: string): Promise<void> {
  await writeFile(join(src, "a-first"), "first\n");
  await writeFile(join(src, "b-vanishes"), "gone soon\n");
  await writeFile(join(src, "c-becomes-a-directory"), "x\n");
  await writeFile(join(src, "d-steady"), "steady\n");
  await mkdir(join(src, "y-directory-gone"));
  await writeFile(join(src, "y-directory-gone", "inside"), "inside\n");
  await writeFile(join(src, "z-file-gone"), "z\n");
  // the same times in every copy, the root's last
  const paths = ["a-first", "b-vanishes", "c-becomes-a-directory", "d-steady", "z-file-gone"];
  await run("touch", ["-d", "@1600000000", ...paths.map((path) => join(src, path)), src]);
}

async function changeAtTurn(src: string, path: string): Promise<void> {
  if (path === "/a-first") {
    await rm(join(src, "y-directory-gone"), { recursive: true });
    await unlink(join(src, "z-file-gone"));
  }
  if (path === "/b-vanishes") await unlink(join(src, "b-vanishes"));
  if (path === "/c-becomes-a-directory") {
    await unlink(join(src, path));
    await mkdir(join(src, path));
  }
}

test("entries that vanish or change type are reported as per-entry calls reported them", async (t) => {
  const oracleSrc = await tempDir(t);
  await buildChangingTree(oracleSrc);
  const oracle = await archivePerEntry(oracleSrc, (path) => changeAtTurn(oracleSrc, path));
  t.deepEqual(oracle.warnings, [
    "/b-vanishes: vanished while the archive was made",
    "/c-becomes-a-directory: is no longer a regular file",
    "/y-directory-gone: vanished while the archive was made",
    "/z-file-gone: vanished while the archive was made",
  ]);
  // the hook runs before each file is read: with nothing read ahead, every change is seen
  const src = await tempDir(t);
  await buildChangingTree(src);
  const walked = await archiveTree(src, {
    readAhead: 0,
    beforeFileRead: (path) => changeAtTurn(src, path),
  });
  t.true(walked.archive.equals(oracle.archive));
  t.deepEqual(
    walked.warnings.map((warning) => warning.message),
    oracle.warnings,
  );
});

// serial: no other test of this file opens descriptors meanwhile
test.serial("a walk leaves no descriptor open", async (t) => {
  const src = await tempDir(t);
  await buildTree(src);
  const before = readdirSync("/proc/self/fd").length;
  await archiveTree(src, { split: true });
  await archiveTree(src);
  t.is(readdirSync("/proc/self/fd").length, before);
});

test("a file changed into a FIFO after its metadata was read is stored as zeros", async (t) => {
  const src = await tempDir(t);
  await writeFile(join(src, "file"), "0123456789");
  const archived = await archiveTree(src, {
    wrapEncoder: (encoder) => ({
      add: async (name, entry) => {
        // between the batch that read it and the reading of its content
        if (entry.kind === "file") {
          await unlink(join(src, "file"));
          await run("mkfifo", [join(src, "file")]);
        }
        return encoder.add(name, entry);
      },
      beginDirectory: (name, metadata) => encoder.beginDirectory(name, metadata),
      endDirectory: () => encoder.endDirectory(),
      finish: () => encoder.finish(),
    }),
  });
  t.deepEqual(
    archived.warnings.map((warning) => warning.kind),
    ["read-error"],
  );
  t.regex(archived.warnings[0]!.message, /is no longer a regular file/);
  t.is(archived.counters.bytesRead, 0);
});
