import { z } from "zod";
import { wireBoolean as flag, wireInteger as wholeNumber } from "../schema/wire-values.js";

export { flag, wholeNumber };

import { ProtocolError } from "./errors.js";

/**
 * Parameter building blocks of the protocol calls. Query strings deliver every value as text,
 * JSON bodies as typed values, so numbers and booleans accept both; each block states its rule in
 * the message a refused call answers with.
 */

/** A SHA-256 value (chunk digest, index checksum) as 64 lowercase hex characters. */
export const sha256Hex = z
  .string({ error: "must be a string" })
  .regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex characters" });

/** A file in a snapshot with the given extensions: a safe-id name, at most 200 characters. */
export function fileName(...extensions: string[]) {
  const rule = `must be a file name (letters, digits, '.', '_', '-') ending in ${extensions.join(" or ")}`;
  const pattern = new RegExp(`^[A-Za-z0-9_][A-Za-z0-9._-]*\\.(?:${extensions.join("|")})$`);
  return z
    .string({ error: "must be a string" })
    .max(200, { error: "must be at most 200 characters long" })
    .regex(pattern, { error: rule });
}

export type RawParameters = Record<string, unknown>;

/** Query fields: one value stays a string, a repeated key becomes a list. */
export function fieldsOf(search: URLSearchParams): RawParameters {
  const fields: RawParameters = Object.create(null);
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key);
    fields[key] = values.length === 1 ? values[0] : values;
  }
  return fields;
}

/** Query and body parameters in one object; a name given in both is refused. */
export function mergeParameters(query: RawParameters, body: RawParameters): RawParameters {
  const merged: RawParameters = Object.assign(Object.create(null), query);
  for (const [key, value] of Object.entries(body)) {
    if (Object.hasOwn(merged, key)) {
      throw new ProtocolError("bad-parameter", `parameter ${key} given in both query and body`, {
        parameter: key,
      });
    }
    merged[key] = value;
  }
  return merged;
}

/** Validates against a call's schema; the 400 names each parameter and its problem. */
export function parseParameters<S extends z.ZodType>(schema: S, raw: RawParameters): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) errors[key] ??= "unknown parameter";
      continue;
    }
    const name = issue.path.length > 0 ? issue.path.map(String).join(".") : "(parameters)";
    const top = issue.path[0];
    const missing = typeof top === "string" && issue.path.length === 1 && !Object.hasOwn(raw, top);
    errors[name] ??= missing ? "parameter is missing" : issue.message;
  }
  const list = Object.entries(errors)
    .map(([name, problem]) => `${name}: ${problem}`)
    .join("; ");
  throw new ProtocolError("bad-parameter", `parameter verification failed - ${list}`, { errors });
}
