import { createHmac } from "node:crypto";
import { VERSION } from "../../version.js";
import { NotificationError } from "./errors.js";
import type { Notification } from "./notification.js";
import type { WebhookTarget } from "./notification-config.js";

/** The header carrying `sha256=<hex HMAC of the body>` when the target has a secret. */
export const SIGNATURE_HEADER = "X-Cairn-Signature";
const TIMEOUT_MS = 10_000;

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The POST a webhook target gets: the notification as JSON, signed when a secret is set. */
export function webhookRequest(target: WebhookTarget, notification: Notification): WebhookRequest {
  const body = JSON.stringify(notification);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": `cairn/${VERSION}`,
  };
  for (const header of target.header ?? []) {
    const colon = header.indexOf(":");
    headers[header.slice(0, colon).toLowerCase()] = header.slice(colon + 1).trim();
  }
  if (target.secret !== undefined) {
    const hmac = createHmac("sha256", target.secret).update(body).digest("hex");
    headers[SIGNATURE_HEADER.toLowerCase()] = `sha256=${hmac}`;
  }
  return { url: target.url, headers, body };
}

/**
 * Delivers one notification; any answer but 2xx is a failure. Errors name the target, never its
 * URL or headers, which may hold tokens.
 */
export async function sendWebhook(
  name: string,
  target: WebhookTarget,
  notification: Notification,
): Promise<void> {
  const request = webhookRequest(target, notification);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new NotificationError(
      "delivery-failed",
      `webhook ${name}: ${cause}`,
      { target: name },
      {
        cause: err,
      },
    );
  }
  await response.body?.cancel();
  if (response.status < 200 || response.status > 299) {
    throw new NotificationError(
      "delivery-failed",
      `webhook ${name}: HTTP ${response.status} ${response.statusText}`,
      { target: name, status: response.status },
    );
  }
}
