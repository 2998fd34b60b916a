import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import test from "ava";
import { encodeBlob } from "../../appliance/format/blob.js";
import { encodeChunk } from "../../appliance/format/chunk.js";
import { CryptConfig } from "../../appliance/format/crypt-config.js";
import { DynamicIndexWriter } from "../../appliance/format/dynamic-index.js";
import { FixedIndexWriter } from "../../appliance/format/fixed-index.js";
import { createKeyConfig, serializeKeyConfig } from "../../appliance/format/key-config.js";
import {
  addManifestFile,
  manifestToJson,
  newManifest,
  signManifest,
} from "../../appliance/format/manifest.js";
import { runCli } from "../helpers/cli.js";

const rawKey = Buffer.alloc(32, 9);
const crypt = new CryptConfig(rawKey);
let dir: string;
let keyfile: string;
const files: Record<string, string> = {};

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cairn-debug-"));
  keyfile = join(dir, "key.json");
  await writeFile(keyfile, serializeKeyConfig(await createKeyConfig(rawKey, { kdf: "none" })));

  const data = Buffer.from("some chunk data ".repeat(1000));
  const plain = encodeChunk(data);
  files.chunk = join(dir, plain.digest.toString("hex"));
  await writeFile(files.chunk, plain.encoded);
  const secret = encodeChunk(data, { crypt });
  files.encryptedChunk = join(dir, secret.digest.toString("hex"));
  await writeFile(files.encryptedChunk, secret.encoded);
  files.blob = join(dir, "notes.conf.blob");
  await writeFile(files.blob, encodeBlob(Buffer.from("name: test\n")));

  files.fidx = join(dir, "disk.img.fidx");
  const fixedFile = await open(files.fidx, "w+");
  const fixed = await FixedIndexWriter.create(fixedFile, { size: data.length, chunkSize: 1 << 22 });
  await fixed.append(plain.digest);
  await fixed.close();
  await fixedFile.close();

  files.didx = join(dir, "root.pxar.didx");
  const dynamicFile = await open(files.didx, "w+");
  const dynamic = await DynamicIndexWriter.create(dynamicFile, {});
  await dynamic.append(data.length, plain.digest);
  await dynamic.append(data.length * 2, plain.digest);
  await dynamic.close();
  await dynamicFile.close();

  let manifest = newManifest({ backupType: "host", backupId: "web1", backupTime: 1_700_000_000 });
  manifest = addManifestFile(manifest, {
    filename: "disk.img.fidx",
    size: data.length,
    csum: Buffer.alloc(32, 1),
  });
  manifest = signManifest(manifest, crypt);
  files.manifest = join(dir, "index.json.blob");
  await writeFile(files.manifest, encodeBlob(Buffer.from(manifestToJson(manifest))));
});

test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cases: [string, string, string[]][] = [
  ["chunk", "chunk", []],
  ["encryptedChunk", "chunk", ["--keyfile"]],
  ["blob", "blob", []],
  ["fidx", "fixed-index", []],
  ["didx", "dynamic-index", []],
  ["manifest", "manifest", ["--keyfile"]],
];

for (const [file, kind, extra] of cases) {
  test(`inspect recognises a ${file} and passes every check`, (t) => {
    const args = extra.length ? [...extra, keyfile] : [];
    const result = runCli("cairn-debug", [
      "inspect",
      files[file]!,
      "--output-format",
      "json",
      ...args,
    ]);
    t.is(result.status, 0, result.stderr + result.stdout);
    const report = JSON.parse(result.stdout);
    t.is(report.kind, kind);
    t.true(report.checks.length >= 1);
    t.true(report.checks.every((c: { ok: boolean }) => c.ok));
  });

  test(`inspect fails on a corrupted ${file}`, async (t) => {
    const bytes = await readFile(files[file]!);
    bytes[bytes.length - 3]! ^= 0x10;
    // same base name in another folder: chunks are checked against the digest in their name
    const copy = join(dir, `corrupt-${file}`, basename(files[file]!));
    await mkdir(dirname(copy));
    await writeFile(copy, bytes);
    const args = extra.length ? [...extra, keyfile] : [];
    const result = runCli("cairn-debug", ["inspect", copy, "--output-format", "json", ...args]);
    t.is(result.status, 1, result.stdout);
    const report = JSON.parse(result.stdout);
    t.is(report.kind, kind);
    t.false(report.ok);
    t.true(report.checks.some((c: { ok: boolean }) => !c.ok));
  });
}

test("inspect names the signature check when the key is wrong", async (t) => {
  const otherKey = join(dir, "other.json");
  await writeFile(
    otherKey,
    serializeKeyConfig(await createKeyConfig(Buffer.alloc(32, 1), { kdf: "none" })),
  );
  const result = runCli("cairn-debug", ["inspect", files.manifest!, "--keyfile", otherKey]);
  t.is(result.status, 1);
  t.regex(result.stdout, /check signature: FAILED/);
});

test("inspect refuses a file with no known magic", async (t) => {
  const junk = join(dir, "junk");
  await writeFile(junk, "hello world, not a blob");
  const result = runCli("cairn-debug", ["inspect", junk]);
  t.is(result.status, 1);
  t.regex(result.stdout, /no known magic/);
});

test("decode writes the checked content of a chunk, and needs the key for an encrypted one", async (t) => {
  const out = join(dir, "out.bin");
  t.is(runCli("cairn-debug", ["decode", files.chunk!, "--out", out]).status, 0);
  t.deepEqual(await readFile(out), Buffer.from("some chunk data ".repeat(1000)));

  const noKey = runCli("cairn-debug", ["decode", files.encryptedChunk!, "--out", out]);
  t.is(noKey.status, 1);
  t.regex(noKey.stderr, /key/);
  t.is(
    runCli("cairn-debug", ["decode", files.encryptedChunk!, "--out", out, "--keyfile", keyfile])
      .status,
    0,
  );
  t.deepEqual(await readFile(out), Buffer.from("some chunk data ".repeat(1000)));
});
