import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { backupCommand } from "../../appliance/cli/client-backup.js";
import { restoreCommand } from "../../appliance/cli/client-restore.js";
import { decodeManifestBlob, encodeManifestBlob } from "../../appliance/datastore/manifest-file.js";
import { chunkPath } from "../../appliance/datastore/names.js";
import { blobCryptMode } from "../../appliance/format/blob.js";
import { DynamicIndexReader } from "../../appliance/format/dynamic-index.js";
import { createKeyConfig, serializeKeyConfig } from "../../appliance/format/key-config.js";
import { pseudoRandomBuffer } from "../helpers/generators.js";
import { listTree } from "./archive/tree-listing.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { type ClientTestServer, startClientServer } from "./fixtures/server.js";

const T0 = 1_700_000_000;
const SNAPSHOT = "host/secret/2023-11-14T22:13:20Z";
const REF = { ns: [], type: "host" as const, id: "secret", time: T0 };
const MARKER = "plaintext marker that must not reach the server";

async function keyFile(dir: string, name: string, passphrase?: string): Promise<string> {
  const config = await createKeyConfig(
    randomBytes(32),
    passphrase ? { kdf: "scrypt", passphrase } : { kdf: "none" },
  );
  const path = join(dir, name);
  await writeFile(path, serializeKeyConfig(config), { mode: 0o600 });
  return path;
}

/** A backup of a small tree with a key; only `passphrase` keys pay for scrypt. */
async function encryptedBackup(t: ExecutionContext, cryptMode = "encrypt", passphrase?: string) {
  const server = await startClientServer(t);
  const env = capturedEnvironment({ ...server.env, CAIRN_ENCRYPTION_PASSWORD: "key passphrase" });
  const src = join(server.scratch, "src");
  await mkdir(join(src, "docs"), { recursive: true });
  await writeFile(join(src, "docs/note.txt"), `${MARKER}\n`.repeat(100));
  await writeFile(join(src, "data.bin"), pseudoRandomBuffer(5 * 1024 * 1024, "data"));
  const key = await keyFile(server.scratch, "key.json", passphrase);
  const backup = await backupCommand(
    [`root.pxar:${src}`],
    { backupId: "secret", backupTime: String(T0), keyfile: key, cryptMode },
    env,
  );
  return { server, env, src, key, backup };
}

async function chunkFiles(server: ClientTestServer): Promise<string[]> {
  const paths: string[] = [];
  const root = join(server.storePath, ".chunks");
  for (const prefix of await readdir(root)) {
    for (const name of await readdir(join(root, prefix))) paths.push(join(root, prefix, name));
  }
  return paths;
}

test("an encrypted backup: no plaintext on the server, a signed manifest, and a faithful restore", async (t) => {
  const { server, env, src, key, backup } = await encryptedBackup(t, "encrypt", "key passphrase");
  t.true(backup.manifest.files.every((file) => file.cryptMode === "encrypt"));
  t.regex(
    String(backup.manifest.unprotected["key-fingerprint"]),
    /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/,
  );
  t.regex(backup.manifest.signature ?? "", /^[0-9a-f]{64}$/);
  for (const path of await chunkFiles(server)) {
    t.false((await readFile(path)).includes(MARKER), `${path} holds plaintext`);
  }
  const target = join(server.scratch, "restored");
  await restoreCommand(SNAPSHOT, "root.pxar", target, { keyfile: key }, env);
  t.deepEqual(await listTree(target), await listTree(src));
});

test("restoring an encrypted archive without its key, or with another key, is refused", async (t) => {
  const { server, env } = await encryptedBackup(t);
  const target = join(server.scratch, "restored");
  await t.throwsAsync(restoreCommand(SNAPSHOT, "root.pxar", target, {}, env), {
    code: "CAIRN_E_CLIENT_NO_KEY",
    message: /root\.pxar\.didx .* is encrypted: pass --keyfile/,
  });
  const other = await keyFile(server.scratch, "other.json");
  await t.throwsAsync(restoreCommand(SNAPSHOT, "root.pxar", target, { keyfile: other }, env), {
    code: "CAIRN_E_CLIENT_TAMPERED",
    message: /manifest of host\/secret\/.* was made with key [0-9a-f:]+, not with the provided key/,
  });
});

test("a chunk changed in the store is refused, naming it", async (t) => {
  const { server, env, key } = await encryptedBackup(t);
  const index = DynamicIndexReader.parse(
    await readFile(join(server.store.snapshotDir(REF), "root.pxar.didx")),
  );
  const digest = index.digest(0).toString("hex");
  const path = join(server.storePath, chunkPath(digest));
  const bytes = await readFile(path);
  bytes[bytes.length - 1]! ^= 0x01;
  await writeFile(path, bytes);
  const error = await t.throwsAsync(
    restoreCommand(SNAPSHOT, "root.pxar", join(server.scratch, "restored"), { keyfile: key }, env),
    { code: "CAIRN_E_CLIENT_TAMPERED" },
  );
  t.true(error.message.includes(`chunk ${digest}`), error.message);
});

test("a manifest changed on the server is refused", async (t) => {
  const { server, env, key } = await encryptedBackup(t);
  const path = join(server.store.snapshotDir(REF), "index.json.blob");
  const manifest = decodeManifestBlob(await readFile(path));
  const files = manifest.files.map((file) =>
    file.filename === "catalog.pcat1.didx" ? { ...file, size: file.size + 1 } : file,
  );
  await writeFile(path, encodeManifestBlob({ ...manifest, files }));
  await t.throwsAsync(
    restoreCommand(SNAPSHOT, "root.pxar", join(server.scratch, "restored"), { keyfile: key }, env),
    {
      code: "CAIRN_E_CLIENT_TAMPERED",
      message: /manifest of host\/secret\/.* signature does not match/,
    },
  );
});

test("sign-only: chunks stay plain, the manifest is signed and checked on restore", async (t) => {
  const { server, env, src, key, backup } = await encryptedBackup(t, "sign-only");
  t.true(backup.manifest.files.every((file) => file.cryptMode === "sign-only"));
  t.regex(backup.manifest.signature ?? "", /^[0-9a-f]{64}$/);
  for (const path of await chunkFiles(server)) t.is(blobCryptMode(await readFile(path)), "none");
  const target = join(server.scratch, "restored");
  await restoreCommand(SNAPSHOT, "root.pxar", target, { keyfile: key }, env);
  t.deepEqual(await listTree(target), await listTree(src));
  // without the key it restores too: nothing is encrypted
  await restoreCommand(SNAPSHOT, "root.pxar", join(server.scratch, "again"), {}, env);
  t.deepEqual(await listTree(join(server.scratch, "again")), await listTree(src));
});
