/**
 * Remotes (PBS's remote.cfg) as `remote.json` stores them: kebab-case fields keyed by name, the
 * password sealed (remote-secret.ts), the file mode 0600.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { jobIdSchema } from "./job-config.js";

export const REMOTE_FILE = "remote.json";
export const DEFAULT_REMOTE_PORT = 8007;

/** A DNS name or an IP address (v6 without brackets). */
export function isHostName(text: string): boolean {
  if (isIP(text) !== 0) return true;
  return (
    text.length <= 253 &&
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
      text,
    )
  );
}

export const AUTH_ID_PATTERN =
  /^[^\s:/!@\p{Cc}]+@[A-Za-z0-9_][A-Za-z0-9._-]*(?:![A-Za-z0-9_][A-Za-z0-9._-]*)?$/u;
export const FINGERPRINT_PATTERN = /^(?:[0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$/;

export const remoteNameSchema = jobIdSchema;

export const remoteSchema = z.strictObject({
  host: z.string().refine(isHostName, "must be a DNS name or an IP address"),
  port: z.number().int().min(1).max(65535).optional(),
  "auth-id": z.string().max(128).regex(AUTH_ID_PATTERN),
  /** Sealed; never shown by the API. */
  password: z.string().min(1),
  fingerprint: z.string().regex(FINGERPRINT_PATTERN).optional(),
  comment: z
    .string()
    .max(1024)
    .regex(/^[^\p{Cc}]*$/u)
    .optional(),
});
export type RemoteConfig = z.infer<typeof remoteSchema>;

export const remoteFileSchema = z.strictObject({
  remote: z.record(remoteNameSchema, remoteSchema),
});

/** Where and as whom to reach a remote, with its secret in the clear: only ever held in memory. */
export interface RemoteEndpoint {
  name: string;
  host: string;
  port: number;
  authId: string;
  secret: string;
  fingerprint?: string;
}
