import { CairnError } from "../../errors.js";

export type CertificateErrorKind = "bad-certificate" | "bad-key" | "key-mismatch" | "missing";

const HTTP_STATUS: Record<CertificateErrorKind, number> = {
  "bad-certificate": 400,
  "bad-key": 400,
  "key-mismatch": 400,
  missing: 500,
};

/** A certificate or key that cannot serve TLS (`CAIRN_E_CERT_…`). */
export class CertificateError extends CairnError {
  override name = "CertificateError";

  constructor(
    readonly kind: CertificateErrorKind,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(
      `CAIRN_E_CERT_${kind.toUpperCase().replaceAll("-", "_")}`,
      message,
      HTTP_STATUS[kind],
      context,
      options,
    );
  }
}
