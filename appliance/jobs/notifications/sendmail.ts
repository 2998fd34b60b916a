import { execa } from "execa";
import { NotificationError } from "./errors.js";
import type { Notification } from "./notification.js";
import type { SendmailTarget } from "./notification-config.js";

export const DEFAULT_SENDMAIL = "/usr/sbin/sendmail";
const TIMEOUT_MS = 30_000;

/** Printable ASCII as is, anything else as an RFC 2047 encoded word. */
function headerText(text: string): string {
  const clean = text.replace(/\p{Cc}/gu, " ");
  return /^[\x20-\x7e]*$/.test(clean)
    ? clean
    : `=?utf-8?B?${Buffer.from(clean, "utf8").toString("base64")}?=`;
}

/** `Cairn <cairn@host>`: the sender a target names, or the host's own. */
export function mailFrom(target: SendmailTarget, hostname: string): string {
  const address = target["from-address"] ?? `cairn@${hostname}`;
  return `${headerText(target.author ?? "Cairn")} <${address}>`;
}

/** The whole message as sendmail reads it: headers, a blank line, the plain-text body. */
export function renderMail(
  target: SendmailTarget,
  notification: Notification,
  hostname: string,
): string {
  const date = new Date(notification.timestamp * 1000).toUTCString().replace("GMT", "+0000");
  return [
    `From: ${mailFrom(target, hostname)}`,
    `To: ${target.mailto.join(", ")}`,
    `Subject: ${headerText(notification.title)}`,
    `Date: ${date}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "Auto-Submitted: auto-generated",
    "",
    notification.body,
  ].join("\n");
}

/**
 * Hands the message to sendmail; recipients come from the To: header (`-t`), so no address is
 * ever an argument. The program path is the server's setting, never the API's.
 */
export async function sendMail(
  name: string,
  target: SendmailTarget,
  notification: Notification,
  options: { sendmailPath: string; hostname: string },
): Promise<void> {
  const from = target["from-address"] ?? `cairn@${options.hostname}`;
  const child = await execa(options.sendmailPath, ["-t", "-oi", "-f", from], {
    input: renderMail(target, notification, options.hostname),
    reject: false,
    timeout: TIMEOUT_MS,
  });
  if (child.failed) {
    const detail = String(child.stderr ?? "").trim() || child.shortMessage;
    throw new NotificationError("delivery-failed", `sendmail ${name}: ${detail}`, {
      target: name,
      exitCode: child.exitCode,
    });
  }
}
