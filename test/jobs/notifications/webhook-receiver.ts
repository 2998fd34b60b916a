import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP server on 127.0.0.1 that records every request and answers with `status`. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedRequest[];
  /** Resolves with the n-th request (1-based) once it has arrived. */
  nth(n: number): Promise<ReceivedRequest>;
  status: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const waiters: { n: number; resolve: (request: ReceivedRequest) => void }[] = [];
  const receiver: WebhookReceiver = {
    url: "",
    received,
    status: 200,
    nth: (n) =>
      received.length >= n
        ? Promise.resolve(received[n - 1]!)
        : new Promise((resolve) => waiters.push({ n, resolve })),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      response.writeHead(receiver.status).end();
      for (const waiter of waiters.filter((w) => w.n <= received.length)) {
        waiter.resolve(received[waiter.n - 1]!);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
