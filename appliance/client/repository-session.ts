import type { Writable } from "node:stream";
import type { ServerAddress } from "../protocol/client/upgrade-connect.js";
import { ApiClient } from "./api-client.js";
import { fingerprintFilePath, ticketDir } from "./config-paths.js";
import { ClientError } from "./errors.js";
import { FingerprintStore } from "./fingerprint-store.js";
import { credentialsFor } from "./login.js";
import { parseRepository, type Repository, serverKey } from "./repository.js";
import { serverTrust } from "./server-trust.js";
import { processTerminal, type Terminal } from "./terminal.js";
import { TicketCache } from "./ticket-cache.js";

/** What every command is given: the environment, a terminal, where output and state go. */
export interface ClientEnvironment {
  env: NodeJS.ProcessEnv;
  terminal: Terminal;
  stdout: Writable;
  fingerprints: FingerprintStore;
  tickets: TicketCache;
}

/** The environment of `env` (config and ticket paths follow its HOME/XDG variables). */
export function clientEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  terminal: Terminal = processTerminal(),
  stdout: Writable = process.stdout,
): ClientEnvironment {
  return {
    env,
    terminal,
    stdout,
    fingerprints: new FingerprintStore(fingerprintFilePath(env)),
    tickets: new TicketCache(ticketDir(env)),
  };
}

/** A logged-in repository: the REST API and the address the protocol sessions open. */
export interface RepositorySession {
  repository: Repository;
  api: ApiClient;
  address: ServerAddress;
}

/** `--repository`, else CAIRN_REPOSITORY. */
export function resolveRepository(given: string | undefined, env: NodeJS.ProcessEnv): Repository {
  const text = given ?? env.CAIRN_REPOSITORY;
  if (text === undefined || text === "") {
    throw new ClientError(
      "bad-repository",
      "no repository: pass --repository or set CAIRN_REPOSITORY",
    );
  }
  return parseRepository(text);
}

/** Trusts the server, logs in, and returns what the commands need. */
export async function openRepository(
  given: string | undefined,
  environment: ClientEnvironment,
  options: { freshLogin?: boolean } = {},
): Promise<RepositorySession> {
  const repository = resolveRepository(given, environment.env);
  const trust = await serverTrust(
    serverKey(repository),
    environment.env.CAIRN_FINGERPRINT || undefined,
    environment.fingerprints,
    environment.terminal,
  );
  const anonymous = new ApiClient(repository.host, repository.port, trust);
  const credentials = await credentialsFor({
    api: anonymous,
    repository,
    tickets: environment.tickets,
    terminal: environment.terminal,
    env: environment.env,
    fresh: options.freshLogin ?? false,
  });
  return {
    repository,
    api: anonymous.withCredentials(credentials),
    address: { host: repository.host, port: repository.port, credentials, trust },
  };
}
