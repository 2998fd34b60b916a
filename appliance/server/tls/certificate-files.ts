import { createPrivateKey, type KeyObject } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { writeFileAtomic } from "../../datastore/atomic-file.js";
import { CertificateError } from "./certificate-errors.js";
import {
  type CertificateInfo,
  describeCertificate,
  parseCertificateChain,
} from "./certificate-info.js";
import {
  createSelfSignedCertificate,
  type PemPair,
  type SelfSignedOptions,
} from "./self-signed.js";

/** PBS's names for the proxy certificate and key in its configuration directory. */
export const CERT_FILE = "proxy.pem";
export const KEY_FILE = "proxy.key";

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

function parseKey(keyPem: string): KeyObject {
  try {
    return createPrivateKey(keyPem);
  } catch (cause) {
    throw new CertificateError(
      "bad-key",
      `the private key cannot be read: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

/** Refuses a pair whose key does not belong to the leaf certificate, or that TLS cannot use. */
export function checkPemPair(pair: PemPair): void {
  const leaf = parseCertificateChain(pair.certPem)[0]!;
  const key = parseKey(pair.keyPem);
  if (!leaf.checkPrivateKey(key)) {
    throw new CertificateError("key-mismatch", "the private key does not match the certificate");
  }
  try {
    createSecureContext({ cert: pair.certPem, key: pair.keyPem });
  } catch (cause) {
    throw new CertificateError(
      "bad-certificate",
      `TLS cannot use this certificate: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

/** The certificate and key in `configDir`; undefined when neither exists. */
export async function readPemPair(configDir: string): Promise<PemPair | undefined> {
  const read = (file: string) =>
    readFile(join(configDir, file), "utf8").catch((err) =>
      isMissing(err) ? undefined : Promise.reject(err),
    );
  const [certPem, keyPem] = await Promise.all([read(CERT_FILE), read(KEY_FILE)]);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? CERT_FILE : KEY_FILE;
    throw new CertificateError(
      "missing",
      `${join(configDir, missing)} is missing (its partner exists)`,
      { configDir },
    );
  }
  return { certPem, keyPem };
}

async function writePemPair(configDir: string, pair: PemPair): Promise<void> {
  await mkdir(configDir, { recursive: true });
  await writeFileAtomic(join(configDir, KEY_FILE), pair.keyPem, { mode: 0o600, fsync: true });
  await writeFileAtomic(join(configDir, CERT_FILE), pair.certPem, { mode: 0o644, fsync: true });
}

/**
 * The TLS certificate and key, made self-signed on first start. A pair that does not match is an
 * error, never silently replaced.
 */
export async function ensureCertificate(
  configDir: string,
  options: SelfSignedOptions = {},
): Promise<{ pair: PemPair; created: boolean }> {
  const existing = await readPemPair(configDir);
  if (existing) {
    checkPemPair(existing);
    return { pair: existing, created: false };
  }
  const pair = await createSelfSignedCertificate(options);
  await writePemPair(configDir, pair);
  return { pair, created: true };
}

/** `cairn-manager cert info`: the installed certificate as PBS describes it. */
export async function readCertificateInfo(configDir: string): Promise<CertificateInfo> {
  const pair = await readPemPair(configDir);
  if (!pair) {
    throw new CertificateError("missing", `no certificate in ${configDir}`, { configDir });
  }
  return describeCertificate(pair.certPem, join(configDir, CERT_FILE));
}

/** Replaces the certificate and key with a custom pair, after checking that they belong together. */
export async function installCertificate(
  configDir: string,
  pair: PemPair,
): Promise<CertificateInfo> {
  checkPemPair(pair);
  await writePemPair(configDir, pair);
  return describeCertificate(pair.certPem, join(configDir, CERT_FILE));
}

/** Replaces whatever is installed with a fresh self-signed pair. */
export async function regenerateCertificate(
  configDir: string,
  options: SelfSignedOptions = {},
): Promise<PemPair> {
  const pair = await createSelfSignedCertificate(options);
  await writePemPair(configDir, pair);
  return pair;
}
