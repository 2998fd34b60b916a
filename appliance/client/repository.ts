import { ClientError } from "./errors.js";

/** Where backups go: `[[auth-id@]host[:port]:]datastore` (pbs-formats.md §14). */
export interface Repository {
  /** `user@realm` or `user@realm!token`. */
  authId: string;
  /** A name or address; IPv6 without brackets. */
  host: string;
  port: number;
  store: string;
}

export const DEFAULT_AUTH_ID = "root@pam";
export const DEFAULT_HOST = "localhost";
export const DEFAULT_PORT = 8007;

const STORE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const AUTH_ID = /^[^\s:/@!]+@[A-Za-z0-9_][A-Za-z0-9._-]*(?:![A-Za-z0-9_][A-Za-z0-9._-]*)?$/;
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

/** Parses a repository string; what is left out takes the defaults root@pam, localhost, 8007. */
export function parseRepository(text: string): Repository {
  const bad = (why: string) =>
    new ClientError("bad-repository", `repository '${text}': ${why}`, { repository: text });
  const storeAt = text.lastIndexOf(":");
  const store = text.slice(storeAt + 1);
  if (!STORE.test(store)) throw bad("the datastore name is missing or invalid");
  if (storeAt === -1)
    return { authId: DEFAULT_AUTH_ID, host: DEFAULT_HOST, port: DEFAULT_PORT, store };
  const prefix = text.slice(0, storeAt);
  const at = prefix.lastIndexOf("@");
  const authId = at === -1 ? DEFAULT_AUTH_ID : prefix.slice(0, at);
  if (!AUTH_ID.test(authId))
    throw bad(`'${authId}' is not an auth id (user@realm or user@realm!token)`);
  const { host, port } = parseHostPort(prefix.slice(at + 1), bad);
  return { authId, host, port, store };
}

function parseHostPort(text: string, bad: (why: string) => Error): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) throw bad("an IPv6 address lacks its closing ']'");
    host = text.slice(1, close);
    if (!IPV6.test(host) || !host.includes(":")) throw bad(`'${host}' is not an IPv6 address`);
    const rest = text.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) throw bad("unexpected text after ']'");
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    if (text.split(":").length > 2)
      throw bad(`'${text}' is not a host (write IPv6 addresses in brackets)`);
    const colon = text.indexOf(":");
    host = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (!HOST_NAME.test(host)) {
      throw bad(`'${host}' is not a host name (write IPv6 addresses in brackets)`);
    }
  }
  if (portText === undefined) return { host, port: DEFAULT_PORT };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw bad(`'${portText}' is not a port`);
  return { host, port };
}

/** The server part as written in the fingerprint file and ticket cache: `host:port`, IPv6 bracketed. */
export function serverKey(repository: Pick<Repository, "host" | "port">): string {
  const host = repository.host.includes(":") ? `[${repository.host}]` : repository.host;
  return `${host}:${repository.port}`;
}

/** The canonical text form, every part spelled out. */
export function formatRepository(repository: Repository): string {
  return `${repository.authId}@${serverKey(repository)}:${repository.store}`;
}

/** Whether the auth id names an API token (`user@realm!name`). */
export function isTokenAuthId(authId: string): boolean {
  return authId.includes("!");
}
