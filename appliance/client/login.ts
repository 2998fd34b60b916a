import type { ClientCredentials } from "../protocol/client/upgrade-connect.js";
import type { ApiClient } from "./api-client.js";
import { ClientError } from "./errors.js";
import { isTokenAuthId, type Repository, serverKey } from "./repository.js";
import { secretFromEnv } from "./secret-env.js";
import type { Terminal } from "./terminal.js";
import type { TicketCache } from "./ticket-cache.js";

export interface LoginOptions {
  api: ApiClient;
  repository: Repository;
  tickets: TicketCache;
  terminal: Terminal;
  env?: NodeJS.ProcessEnv;
  /** Log in even when a cached ticket is still good (`cairn login`). */
  fresh?: boolean;
}

/**
 * The credentials for a repository: an API token's secret is sent as it is; a user logs in
 * with a password (CAIRN_PASSWORD or asked) unless a recent ticket is cached.
 */
export async function credentialsFor(options: LoginOptions): Promise<ClientCredentials> {
  const { repository, tickets } = options;
  if (isTokenAuthId(repository.authId)) {
    return { kind: "token", tokenId: repository.authId, secret: await password(options) };
  }
  const server = serverKey(repository);
  const cached = options.fresh ? undefined : await tickets.lookup(repository.authId, server);
  if (cached) return { kind: "ticket", ticket: cached.ticket, csrfToken: cached.csrfToken };
  const answer = (await options.api
    .post("/access/ticket", { username: repository.authId, password: await password(options) })
    .catch((err: unknown) => {
      const refused =
        err instanceof ClientError && (err.kind === "login-failed" || err.kind === "api-failed");
      if (!refused) throw err; // an untrusted server or a lost connection says so itself
      throw new ClientError(
        "login-failed",
        `login as ${repository.authId} on ${server} failed: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    })) as { ticket: string; CSRFPreventionToken: string };
  await tickets.store(repository.authId, server, {
    ticket: answer.ticket,
    csrfToken: answer.CSRFPreventionToken,
    issued: Math.floor(Date.now() / 1000),
  });
  return { kind: "ticket", ticket: answer.ticket, csrfToken: answer.CSRFPreventionToken };
}

async function password(options: LoginOptions): Promise<string> {
  const fromEnv = secretFromEnv("CAIRN_PASSWORD", options.env);
  if (fromEnv !== undefined) return fromEnv;
  if (!options.terminal.interactive) {
    throw new ClientError(
      "login-failed",
      `no password for ${options.repository.authId}: set CAIRN_PASSWORD (or CAIRN_PASSWORD_FILE / _FD)`,
    );
  }
  return options.terminal.askHidden(`Password for "${options.repository.authId}": `);
}
