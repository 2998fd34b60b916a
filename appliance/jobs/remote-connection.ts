import { ApiClient } from "../client/api-client.js";
import { type Namespace, namespaceToDisplay } from "../datastore/names.js";
import type { ClientCredentials, ServerAddress } from "../protocol/client/upgrade-connect.js";
import type { RemoteEndpoint } from "./remote-config.js";

/** A remote as its configured auth id sees it: the REST API and the address the protocols use. */
export interface RemoteConnection {
  api: ApiClient;
  credentials: ClientCredentials;
  address: ServerAddress;
}

/** Logs in to a remote as its auth id (a token is used as it is). */
export async function connectRemote(remote: RemoteEndpoint): Promise<RemoteConnection> {
  const trust = remote.fingerprint === undefined ? {} : { fingerprint: remote.fingerprint };
  const anonymous = new ApiClient(remote.host, remote.port, trust);
  if (remote.authId.includes("!")) {
    const credentials: ClientCredentials = {
      kind: "token",
      tokenId: remote.authId,
      secret: remote.secret,
    };
    return connection(anonymous, remote, credentials);
  }
  const answer = (await anonymous.post("/access/ticket", {
    username: remote.authId,
    password: remote.secret,
  })) as { ticket: string; CSRFPreventionToken: string };
  const credentials: ClientCredentials = {
    kind: "ticket",
    ticket: answer.ticket,
    csrfToken: answer.CSRFPreventionToken,
  };
  return connection(anonymous, remote, credentials);
}

function connection(
  anonymous: ApiClient,
  remote: RemoteEndpoint,
  credentials: ClientCredentials,
): RemoteConnection {
  const address: ServerAddress = {
    host: remote.host,
    port: remote.port,
    credentials,
    ...(remote.fingerprint !== undefined && { trust: { fingerprint: remote.fingerprint } }),
  };
  return { api: anonymous.withCredentials(credentials), credentials, address };
}

/** Query parameter of a namespace: absent for the root, as PBS's client sends it. */
export function nsParam(ns: Namespace): { ns?: string } {
  return ns.length === 0 ? {} : { ns: namespaceToDisplay(ns) };
}
