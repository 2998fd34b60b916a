import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test from "ava";
import { backupCommand } from "../../appliance/cli/client-backup.js";
import { keyShowCommand } from "../../appliance/cli/client-key.js";
import { restoreCommand } from "../../appliance/cli/client-restore.js";
import {
  changeKeyPassphrase,
  createKey,
  createMasterKeyFiles,
  importWithMasterKey,
  paperKey,
} from "../../appliance/client/key-commands.js";
import { loadKeyFile } from "../../appliance/client/key-file.js";
import { silentTerminal } from "../../appliance/client/terminal.js";
import { tempDir } from "./archive/fixtures.js";
import { capturedEnvironment } from "./fixtures/environment.js";
import { startClientServer } from "./fixtures/server.js";

const quiet = silentTerminal();

test("key create writes a private key file; show and paperkey describe it", async (t) => {
  const dir = await tempDir(t, "cairn-keys-");
  const path = join(dir, "cairn", "encryption-key.json");
  const fingerprint = await createKey(path, "pbkdf2", {
    terminal: quiet,
    env: { CAIRN_ENCRYPTION_PASSWORD: "pass one" },
  });
  t.is((await stat(path)).mode & 0o777, 0o600);
  t.is((await loadKeyFile(path, "pass one")).fingerprint, fingerprint);
  await t.throwsAsync(createKey(path, "none", { terminal: quiet, env: {} }), {
    message: /exists; not overwriting/,
  });

  const env = capturedEnvironment({});
  await keyShowCommand(path, { outputFormat: "json" }, env);
  t.like(JSON.parse(env.output().toString()), { kdf: "pbkdf2", fingerprint, hint: null });
  const paper = await paperKey(path);
  t.regex(
    paper,
    /^-----BEGIN CAIRN BACKUP KEY-----\nfingerprint: [0-9a-f:]{95}\n\{\n {2}"kdf": \{/,
  );
  t.regex(paper, /-----END CAIRN BACKUP KEY-----\n$/);
});

test("change-passphrase keeps the key and replaces the passphrase", async (t) => {
  const dir = await tempDir(t, "cairn-keys-");
  const path = join(dir, "key.json");
  const fingerprint = await createKey(path, "pbkdf2", {
    terminal: quiet,
    env: { CAIRN_ENCRYPTION_PASSWORD: "old pass" },
  });
  await changeKeyPassphrase(path, undefined, {
    terminal: quiet,
    env: { CAIRN_ENCRYPTION_PASSWORD: "old pass", CAIRN_NEW_ENCRYPTION_PASSWORD: "new pass" },
  });
  t.is((await loadKeyFile(path, "new pass")).fingerprint, fingerprint);
  await t.throwsAsync(loadKeyFile(path, "old pass"));
});

test("a key stored wrapped with the master key is recovered and restores the backup", async (t) => {
  const server = await startClientServer(t);
  const keys = { CAIRN_MASTER_KEY_PASSWORD: "master secret" };
  const publicPem = join(server.scratch, "master-public.pem");
  const privatePem = join(server.scratch, "master-private.pem");
  await createMasterKeyFiles(publicPem, privatePem, { terminal: quiet, env: keys });
  const key = join(server.scratch, "key.json");
  await createKey(key, "none", { terminal: quiet, env: {} });
  const src = join(server.scratch, "src");
  await mkdir(src);
  await writeFile(join(src, "f"), "escrowed\n");
  const env = capturedEnvironment(server.env);
  const backup = await backupCommand(
    [`root.pxar:${src}`],
    { backupId: "escrow", backupTime: "1700000000", keyfile: key, masterPubkeyFile: publicPem },
    env,
  );
  t.like(
    backup.manifest.files.find((file) => file.filename === "rsa-encrypted.key.blob"),
    { cryptMode: "none" },
  );

  const blob = join(
    server.store.snapshotDir({ ns: [], type: "host", id: "escrow", time: 1_700_000_000 }),
    "rsa-encrypted.key.blob",
  );
  const recovered = join(server.scratch, "recovered.json");
  const fingerprint = await importWithMasterKey(recovered, privatePem, blob, "none", {
    terminal: quiet,
    env: keys,
  });
  t.is(fingerprint, String(backup.manifest.unprotected["key-fingerprint"]));
  const target = join(server.scratch, "restored");
  await restoreCommand(
    "host/escrow/2023-11-14T22:13:20Z",
    "root.pxar",
    target,
    { keyfile: recovered },
    env,
  );
  t.is(await readFile(join(target, "f"), "utf8"), "escrowed\n");
});
