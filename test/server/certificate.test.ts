import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { CertificateError } from "../../appliance/server/tls/certificate-errors.js";
import {
  CERT_FILE,
  ensureCertificate,
  installCertificate,
  KEY_FILE,
  readCertificateInfo,
} from "../../appliance/server/tls/certificate-files.js";
import { colonHex } from "../../appliance/server/tls/certificate-info.js";
import {
  createSelfSignedCertificate,
  type PemPair,
} from "../../appliance/server/tls/self-signed.js";
import { api } from "./helpers/client.js";
import { tokenHeader } from "./helpers/stand-in-access.js";
import { startTestServer } from "./helpers/test-server.js";

const root = tokenHeader("root@pam");
let pairA: PemPair;
let pairB: PemPair;

test.before(async () => {
  [pairA, pairB] = await Promise.all([
    createSelfSignedCertificate({ rsaBits: 2048, hostnames: ["backup.example.org", "backup"] }),
    createSelfSignedCertificate({ rsaBits: 2048, hostnames: ["other.example.org"] }),
  ]);
});

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-cert-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function derFingerprint(pem: string): string {
  return colonHex(createHash("sha256").update(new X509Certificate(pem).raw).digest());
}

test("the self-signed certificate names the host, localhost and loopback addresses and lasts long", (t) => {
  const cert = new X509Certificate(pairA.certPem);
  const san = cert.subjectAltName ?? "";
  t.true(san.includes("DNS:backup.example.org"));
  t.true(san.includes("DNS:backup"));
  t.true(san.includes("DNS:localhost"));
  t.true(san.includes("IP Address:127.0.0.1"));
  t.regex(san, /IP Address:(::1|0:0:0:0:0:0:0:1)/);
  t.regex(cert.subject, /CN=backup\.example\.org/);
  t.is(cert.subject, cert.issuer);
  t.is(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 86_400_000);
  t.true(years > 999, `valid for ${years} years`);
  t.true(cert.checkPrivateKey(createPrivateKey(pairA.keyPem)));
});

test("ensureCertificate creates a pair once and reuses it", async (t) => {
  const dir = await tempDir(t);
  const first = await ensureCertificate(dir, { rsaBits: 2048 });
  t.true(first.created);
  const second = await ensureCertificate(dir, { rsaBits: 2048 });
  t.false(second.created);
  t.is(second.pair.certPem, first.pair.certPem);
  const info = await readCertificateInfo(dir);
  t.is(info.fingerprint, derFingerprint(first.pair.certPem));
  t.regex(info.fingerprint, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
  t.is(info["public-key-type"], "rsaEncryption");
  t.is(info["public-key-bits"], 2048);
  t.true(info.notafter > info.notbefore);
  t.true(info.san.includes("DNS:localhost"));
});

test("a key without its certificate is an error, not a silent replacement", async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, KEY_FILE), pairA.keyPem);
  const err = await t.throwsAsync(ensureCertificate(dir, { rsaBits: 2048 }), {
    instanceOf: CertificateError,
  });
  t.regex(err!.message, /proxy\.pem is missing/);
  t.is(await readFile(join(dir, KEY_FILE), "utf8"), pairA.keyPem);
});

test("installing a certificate with a key that is not its own is refused and changes nothing", async (t) => {
  const dir = await tempDir(t);
  await installCertificate(dir, pairA);
  const err = await t.throwsAsync(
    installCertificate(dir, { certPem: pairA.certPem, keyPem: pairB.keyPem }),
    {
      instanceOf: CertificateError,
    },
  );
  t.is(err!.kind, "key-mismatch");
  t.is(await readFile(join(dir, CERT_FILE), "utf8"), pairA.certPem);
  t.is(await readFile(join(dir, KEY_FILE), "utf8"), pairA.keyPem);
});

test("text that is no certificate is refused", async (t) => {
  const dir = await tempDir(t);
  const err = await t.throwsAsync(
    installCertificate(dir, { certPem: "hello", keyPem: pairA.keyPem }),
    {
      instanceOf: CertificateError,
    },
  );
  t.is(err!.kind, "bad-certificate");
});

test("the fingerprint the server reports is the one it presents and the one on disk", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const printed = server.server.certificate.fingerprint;
  const onDisk = derFingerprint(await readFile(join(server.configDir, CERT_FILE), "utf8"));
  const presented = (await api(server.port, "GET", "/api2/json/ping")).fingerprint;
  t.is(printed, onDisk);
  t.is(presented, printed);
  const info = await api(server.port, "GET", "/api2/json/nodes/localhost/certificates/info", {
    headers: root,
  });
  t.is(info.json.data[0].fingerprint, printed);
});

test("a custom certificate is served to new connections without a restart", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const before = (await api(server.port, "GET", "/api2/json/ping")).fingerprint;
  const refused = await api(server.port, "POST", "/api2/json/nodes/localhost/certificates/custom", {
    headers: root,
    body: { certificates: pairA.certPem, key: pairB.keyPem },
  });
  t.is(refused.status, 400);
  t.regex(refused.json.message, /does not match/);
  t.is((await api(server.port, "GET", "/api2/json/ping")).fingerprint, before);

  const installed = await api(
    server.port,
    "POST",
    "/api2/json/nodes/localhost/certificates/custom",
    {
      headers: root,
      body: { certificates: pairA.certPem, key: pairA.keyPem },
    },
  );
  t.is(installed.status, 200, installed.body.toString());
  t.is(installed.json.data[0].fingerprint, derFingerprint(pairA.certPem));
  t.is(
    (await api(server.port, "GET", "/api2/json/ping")).fingerprint,
    derFingerprint(pairA.certPem),
  );

  const removed = await api(
    server.port,
    "DELETE",
    "/api2/json/nodes/localhost/certificates/custom",
    {
      headers: root,
    },
  );
  t.is(removed.status, 200);
  const after = (await api(server.port, "GET", "/api2/json/ping")).fingerprint;
  t.not(after, derFingerprint(pairA.certPem));
  t.is(after, derFingerprint(await readFile(join(server.configDir, CERT_FILE), "utf8")));
});

test("certificate changes need Sys.Modify", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const answer = await api(server.port, "POST", "/api2/json/nodes/localhost/certificates/custom", {
    headers: tokenHeader("someone@pbs"),
    body: { certificates: pairA.certPem, key: pairA.keyPem },
  });
  t.is(answer.status, 403);
  t.not(
    derFingerprint(await readFile(join(server.configDir, CERT_FILE), "utf8")),
    derFingerprint(pairA.certPem),
  );
});
