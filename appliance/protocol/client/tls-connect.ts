import { createHash } from "node:crypto";
import { isIP } from "node:net";
import tls, { type TLSSocket } from "node:tls";
import { ProtocolError } from "../errors.js";

/** How the client decides to trust the server's certificate (pbs-formats.md §14). */
export interface ServerTrust {
  /** CA certificates to accept besides the system's. */
  ca?: string | Buffer | (string | Buffer)[];
  /** The SHA-256 fingerprint (colon hex) to accept when the chain does not verify. */
  fingerprint?: string;
  /** Asked about a certificate neither the chain nor `fingerprint` vouch for; true accepts it. */
  confirm?(fingerprint: string, reason: string): boolean | Promise<boolean>;
}

/** SHA-256 of the DER certificate as 32 colon-separated lowercase hex bytes. */
export function certificateFingerprint(der: Buffer): string {
  return createHash("sha256").update(der).digest("hex").match(/../g)?.join(":") ?? "";
}

/**
 * A TLS 1.3 connection whose server is trusted: by a verifying chain, else by its fingerprint
 * (given, or confirmed through the hook), as PBS's client decides.
 */
export async function connectTls(
  host: string,
  port: number,
  trust: ServerTrust = {},
  timeoutMs = 10_000,
): Promise<TLSSocket> {
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const connecting = tls.connect({
      host,
      port,
      ...(isIP(host) === 0 && { servername: host }),
      minVersion: "TLSv1.3",
      ...(trust.ca !== undefined && { ca: trust.ca }),
      rejectUnauthorized: false, // decided below, where a fingerprint may vouch instead
    });
    const timer = setTimeout(() => {
      connecting.destroy();
      reject(new ProtocolError("connection-failed", `connecting to ${host}:${port} timed out`));
    }, timeoutMs);
    connecting.once("secureConnect", () => {
      clearTimeout(timer);
      connecting.off("error", onError);
      resolve(connecting);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(
        new ProtocolError(
          "connection-failed",
          `cannot connect to ${host}:${port}: ${err.message}`,
          {},
          undefined,
          { cause: err },
        ),
      );
    };
    connecting.once("error", onError);
  });
  try {
    await checkTrust(socket, trust);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  return socket;
}

async function checkTrust(socket: TLSSocket, trust: ServerTrust): Promise<void> {
  if (socket.authorized) return;
  const fingerprint = certificateFingerprint(socket.getPeerCertificate().raw);
  if (trust.fingerprint !== undefined && trust.fingerprint.toLowerCase() === fingerprint) return;
  const reason = String(socket.authorizationError ?? "certificate not verified");
  if (trust.confirm && (await trust.confirm(fingerprint, reason))) return;
  throw new ProtocolError(
    "untrusted-server",
    trust.fingerprint === undefined
      ? `server certificate not trusted (${reason}); its fingerprint is ${fingerprint}`
      : `server certificate fingerprint ${fingerprint} does not match the expected ${trust.fingerprint}`,
    { fingerprint },
  );
}
