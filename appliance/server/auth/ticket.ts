import { type KeyObject, sign, verify } from "node:crypto";
import { parseUserId } from "./auth-id.js";
import { AuthError } from "./errors.js";

export const TICKET_PREFIX = "PBS";
/** A ticket is good for two hours after it was issued… */
export const TICKET_LIFETIME_SECONDS = 7200;
/** …and from five minutes before, for clocks that run a little apart. */
export const TICKET_MIN_AGE_SECONDS = -300;

const BASE64_NOPAD = /^[A-Za-z0-9+/]+$/;
const HEX_TIME = /^[0-9A-Fa-f]{1,16}$/;

/** `%`, `:` and control characters percent-encoded, so the fields can't be confused. */
function encodeField(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f%:]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}

export function hex8(epochSeconds: number): string {
  return Math.floor(epochSeconds).toString(16).toUpperCase().padStart(8, "0");
}

function ticketData(userId: string, epochSeconds: number): string {
  return `${encodeField(TICKET_PREFIX)}:${encodeField(userId)}:${hex8(epochSeconds)}`;
}

/** `PBS:<userid>:<HEX8 epoch>::<base64 signature>`, signed with the server's ed25519 key. */
export function createTicket(userId: string, signingKey: KeyObject, nowSeconds: number): string {
  const data = ticketData(userId, nowSeconds);
  const signature = sign(null, Buffer.from(data), signingKey).toString("base64");
  return `${data}::${signature.replace(/=+$/, "")}`;
}

function badTicket(problem: string): AuthError {
  return new AuthError("bad-ticket", `invalid ticket - ${problem}`);
}

/** Checks a ticket's form, signature and age; returns the user id it was issued to. */
export function verifyTicket(ticket: string, verifyKey: KeyObject, nowSeconds: number): string {
  const [prefix, data, time, ...rest] = ticket.split(":");
  const signature = rest.join(":");
  if (time === undefined || !signature.startsWith(":")) {
    throw badTicket("expected PBS:<userid>:<time>::<signature>");
  }
  if (prefix !== TICKET_PREFIX) throw badTicket(`wrong prefix "${prefix}"`);
  const signatureText = signature.slice(1);
  if (!HEX_TIME.test(time)) throw badTicket("the timestamp is not hexadecimal");
  if (!BASE64_NOPAD.test(signatureText)) throw badTicket("the signature is not base64");
  let userId: string;
  try {
    userId = parseUserId(decodeURIComponent(data!), "ticket user").userId;
  } catch {
    throw badTicket("it does not name a user");
  }
  const issued = Number.parseInt(time, 16);
  const signed = Buffer.from(`${prefix}:${data}:${time}`);
  if (
    hex8(issued) !== time ||
    !verify(null, signed, verifyKey, Buffer.from(signatureText, "base64"))
  ) {
    throw badTicket("bad signature");
  }
  const age = nowSeconds - issued;
  if (age < TICKET_MIN_AGE_SECONDS) throw badTicket("timestamp newer than expected");
  if (age > TICKET_LIFETIME_SECONDS) throw badTicket("expired");
  return userId;
}
