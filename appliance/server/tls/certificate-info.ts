import { createHash, X509Certificate } from "node:crypto";
import { CertificateError } from "./certificate-errors.js";

/** What PBS's `certificates/info` reports for one certificate. */
export interface CertificateInfo {
  filename?: string;
  /** SHA-256 of the DER certificate, 32 colon-separated lowercase hex bytes. */
  fingerprint: string;
  subject: string;
  issuer: string;
  /** Unix epoch seconds. */
  notbefore: number;
  notafter: number;
  san: string[];
  "public-key-type": string;
  "public-key-bits"?: number;
  pem: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_TYPES: Record<string, string> = {
  rsa: "rsaEncryption",
  "rsa-pss": "rsassaPss",
  ec: "id-ecPublicKey",
  ed25519: "ED25519",
  ed448: "ED448",
};

/** `aa:bb:…`, as PBS prints fingerprints. */
export function colonHex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString("hex")
    .replace(/(..)(?!$)/g, "$1:");
}

export function fingerprintOf(certificate: X509Certificate): string {
  return colonHex(createHash("sha256").update(certificate.raw).digest());
}

/** The certificates of a PEM chain, leaf first; refuses text holding none or a broken one. */
export function parseCertificateChain(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new CertificateError("bad-certificate", "no PEM certificate (BEGIN CERTIFICATE) found");
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (cause) {
      throw new CertificateError(
        "bad-certificate",
        `certificate ${index + 1} of the chain cannot be parsed: ${(cause as Error).message}`,
        {},
        { cause },
      );
    }
  });
}

function dnLine(dn: string): string {
  return dn.split("\n").filter(Boolean).join(", ");
}

/** The PBS-shaped description of the leaf certificate of `pem`. */
export function describeCertificate(pem: string, filename?: string): CertificateInfo {
  const leaf = parseCertificateChain(pem)[0]!;
  const details = leaf.publicKey.asymmetricKeyDetails;
  const keyType = leaf.publicKey.asymmetricKeyType ?? "unknown";
  const bits =
    details?.modulusLength ?? (details?.namedCurve ? curveBits(details.namedCurve) : undefined);
  return {
    ...(filename !== undefined && { filename }),
    fingerprint: fingerprintOf(leaf),
    subject: dnLine(leaf.subject),
    issuer: dnLine(leaf.issuer),
    notbefore: Math.floor(Date.parse(leaf.validFrom) / 1000),
    notafter: Math.floor(Date.parse(leaf.validTo) / 1000),
    san: leaf.subjectAltName?.split(", ") ?? [],
    "public-key-type": KEY_TYPES[keyType] ?? keyType,
    ...(bits !== undefined && { "public-key-bits": bits }),
    pem: leaf.toString(),
  };
}

function curveBits(curve: string): number | undefined {
  const digits = /(\d{3})/.exec(curve);
  return digits ? Number(digits[1]) : undefined;
}
