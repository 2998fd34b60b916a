import { AuthError } from "./errors.js";

/** Request headers as Node gives them (names lower-cased; repeated ones as arrays). */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What a request presents to prove who it is. */
export type RequestCredentials =
  | { kind: "ticket"; ticket: string; csrfToken: string | undefined }
  | { kind: "token"; tokenId: string; secret: string };

export const AUTH_COOKIE = "PBSAuthCookie";
export const HOST_AUTH_COOKIE = `__Host-${AUTH_COOKIE}`;
export const CSRF_HEADER = "csrfpreventiontoken";
const TOKEN_SCHEME = "PBSAPIToken";

/** All values of a header, whatever the case of its name. */
export function headerValues(headers: RequestHeaders, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    values.push(...(typeof value === "string" ? [value] : value));
  }
  return values;
}

/** The value of a cookie in `Cookie` headers (first occurrence), without percent-decoding. */
export function cookieValue(headers: RequestHeaders, name: string): string | undefined {
  for (const header of headerValues(headers, "cookie")) {
    for (const pair of header.split(";")) {
      const eq = pair.indexOf("=");
      if (eq >= 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/**
 * The ticket (from the `__Host-PBSAuthCookie` or `PBSAuthCookie` cookie, the former preferred) or
 * else the API token (`Authorization: PBSAPIToken=<id>:<secret>`, or a space instead of `=`).
 * Undefined when the request carries neither.
 */
export function extractCredentials(headers: RequestHeaders): RequestCredentials | undefined {
  const cookie = cookieValue(headers, HOST_AUTH_COOKIE) ?? cookieValue(headers, AUTH_COOKIE);
  if (cookie !== undefined) {
    return {
      kind: "ticket",
      ticket: percentDecode(cookie, "bad-ticket", "the auth cookie"),
      csrfToken: headerValues(headers, CSRF_HEADER)[0],
    };
  }
  for (const value of headerValues(headers, "authorization")) {
    const token = parseApiTokenHeader(value);
    if (token !== undefined) return { kind: "token", ...token };
  }
  return undefined;
}

/**
 * Parses an `Authorization` value of the PBSAPIToken scheme; undefined for other schemes. The
 * secret may be percent-encoded (the PBS client does that).
 */
export function parseApiTokenHeader(
  value: string,
): { tokenId: string; secret: string } | undefined {
  const separator = value.charAt(TOKEN_SCHEME.length);
  if (!value.startsWith(TOKEN_SCHEME) || (separator !== "=" && separator !== " ")) return undefined;
  const credentials = value.slice(TOKEN_SCHEME.length + 1).trim();
  const colon = credentials.indexOf(":");
  if (colon <= 0) {
    throw new AuthError(
      "bad-token",
      "invalid API token header - expected PBSAPIToken=<id>:<secret>",
    );
  }
  return {
    tokenId: credentials.slice(0, colon),
    secret: percentDecode(credentials.slice(colon + 1), "bad-token", "the API token secret"),
  };
}

function percentDecode(text: string, kind: "bad-ticket" | "bad-token", what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new AuthError(kind, `${what} is not valid percent-encoding`);
  }
}
