import type { IncomingHttpHeaders } from "node:http";

/** One HTTP/1.x request head, as far as routing and authentication need it. */
export interface RequestHead {
  method: string;
  /** The request target as sent: path and query. */
  url: string;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
}

const REQUEST_LINE = /^([A-Z]+) (\/[^\s]*) HTTP\/(1\.[01])$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/**
 * Parses a request head (without its final empty line) strictly: no folded lines, no control
 * characters, an origin-form target. Returns undefined for anything else; the caller then leaves
 * the bytes to Node's parser, which answers malformed requests itself.
 */
export function parseRequestHead(text: string, remoteAddress: string): RequestHead | undefined {
  const lines = text.split("\r\n");
  const requestLine = REQUEST_LINE.exec(lines[0] ?? "");
  if (!requestLine) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const header = HEADER_LINE.exec(line);
    if (!header || /[\x00-\x08\x0a-\x1f\x7f]/.test(header[2]!)) return undefined;
    const name = header[1]!.toLowerCase();
    const value = header[2]!;
    const previous = headers[name];
    headers[name] =
      previous === undefined ? value : `${previous}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return {
    method: requestLine[1]!,
    url: requestLine[2]!,
    httpVersion: requestLine[3]!,
    headers,
    remoteAddress,
  };
}

/** The path of a request target, without the query. */
export function pathOf(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? url : url.slice(0, at);
}
