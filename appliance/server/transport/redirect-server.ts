import http from "node:http";
import { hostname } from "node:os";

const HOST_NAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/;

/** The host part of a Host header when it is a plain name or address, else undefined. */
export function redirectHost(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined) return undefined;
  const host = IPV6_LITERAL.test(hostHeader)
    ? hostHeader
    : hostHeader.startsWith("[")
      ? hostHeader.slice(0, hostHeader.indexOf("]") + 1)
      : hostHeader.split(":", 1)[0]!;
  return HOST_NAME.test(host) || IPV6_LITERAL.test(host) ? host : undefined;
}

/**
 * Answers plain HTTP that reached the HTTPS port with a permanent redirect to the same path over
 * HTTPS: 301 for GET/HEAD, 308 (method kept) for the rest.
 */
export function createRedirectServer(port: () => number): http.Server {
  const server = http.createServer((request, response) => {
    const host = redirectHost(request.headers.host) ?? hostname();
    const url = request.url ?? "";
    const target = /^\/[\x21-\x7e]*$/.test(url) ? url : "/";
    const location = `https://${host}:${port()}${target}`;
    const status = request.method === "GET" || request.method === "HEAD" ? 301 : 308;
    response.writeHead(status, {
      Location: location,
      "Content-Type": "text/plain",
      Connection: "close",
    });
    response.end(`use ${location}\n`);
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  return server;
}
