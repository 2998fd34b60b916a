import type { ServerTrust } from "../protocol/client/tls-connect.js";
import { ClientError } from "./errors.js";
import type { FingerprintStore } from "./fingerprint-store.js";
import type { Terminal } from "./terminal.js";

const FINGERPRINT = /^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/;

/**
 * How a server's certificate is trusted, as PBS's client decides: a verifying chain, else the
 * fingerprint given (CAIRN_FINGERPRINT) or remembered; anything else is asked about on a terminal
 * (and remembered when accepted) and refused without one.
 */
export async function serverTrust(
  server: string,
  given: string | undefined,
  store: FingerprintStore,
  terminal: Terminal,
): Promise<ServerTrust> {
  const expected = given === undefined ? await store.lookup(server) : normalise(given);
  return {
    ...(expected !== undefined && { fingerprint: expected }),
    confirm: async (fingerprint, reason) => {
      const what =
        expected === undefined
          ? `the certificate of ${server} is not trusted (${reason})`
          : given === undefined
            ? `the certificate fingerprint of ${server} changed from ${expected}`
            : `the certificate fingerprint of ${server} does not match CAIRN_FINGERPRINT ${expected}`;
      if (!terminal.interactive) {
        throw new ClientError(
          "untrusted-server",
          `${what}; its fingerprint is ${fingerprint}. Set CAIRN_FINGERPRINT to this value if you trust it${
            given === undefined && expected !== undefined
              ? `, or remove ${server} from ${store.path}`
              : ""
          }`,
          { server, fingerprint, expected },
        );
      }
      terminal.note(`${what}\nfingerprint: ${fingerprint}`);
      const answer = await terminal.ask("Are you sure you want to continue connecting? (y/n): ");
      if (!/^y(es)?$/i.test(answer)) return false;
      await store.remember(server, fingerprint);
      return true;
    },
  };
}

function normalise(fingerprint: string): string {
  const value = fingerprint.trim().toLowerCase();
  if (!FINGERPRINT.test(value)) {
    throw new ClientError(
      "bad-argument",
      `'${fingerprint}' is not a certificate fingerprint (32 colon-separated hex bytes)`,
    );
  }
  return value;
}
