import type { Logger } from "pino";
import type { CertificateControl } from "../routes/services.js";
import {
  installCertificate,
  readCertificateInfo,
  regenerateCertificate,
} from "./certificate-files.js";
import { describeCertificate } from "./certificate-info.js";
import type { PemPair, SelfSignedOptions } from "./self-signed.js";

/**
 * The certificate operations of the API over the config directory; `reload` hands every new pair
 * to TLS so the next handshake uses it without a restart.
 */
export function certificateControl(
  configDir: string,
  selfSigned: SelfSignedOptions | undefined,
  reload: (pair: PemPair) => void,
  logger: Logger,
): CertificateControl {
  return {
    info: () => readCertificateInfo(configDir),
    install: async (pair) => {
      const info = await installCertificate(configDir, pair);
      reload(pair);
      logger.info({ fingerprint: info.fingerprint }, "custom certificate installed");
      return info;
    },
    regenerate: async () => {
      const pair = await regenerateCertificate(configDir, selfSigned);
      reload(pair);
      const info = describeCertificate(pair.certPem);
      logger.info({ fingerprint: info.fingerprint }, "self-signed certificate regenerated");
      return info;
    },
  };
}
