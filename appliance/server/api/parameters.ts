import type { z } from "zod";
import { ApiError, badParameters } from "./api-errors.js";

export type RawParameters = Record<string, unknown>;

/** Query-string or form fields: one value stays a string, a repeated key becomes a list. */
export function fieldsOf(search: URLSearchParams): RawParameters {
  const fields: RawParameters = {};
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key);
    Object.defineProperty(fields, key, {
      value: values.length === 1 ? values[0] : values,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return fields;
}

/** Path placeholders, query and body in one object; a name given twice is refused. */
export function mergeParameters(...sources: RawParameters[]): RawParameters {
  const merged: RawParameters = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source)) {
      if (Object.hasOwn(merged, key)) {
        throw badParameters({ [key]: "given more than once (path, query or body)" });
      }
      Object.defineProperty(merged, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return merged;
}

/** Validates against the route's schema; a failure names each parameter and its problem. */
export function validateParameters<S extends z.ZodType>(schema: S, raw: RawParameters): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  // no prototype: a parameter named "__proto__" must land as a plain key
  const errors: Record<string, string> = Object.create(null);
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
  throw badParameters(errors);
}

/** Parses a request body by its media type into raw parameters. */
export function parseBody(body: Buffer, contentType: string | undefined): RawParameters {
  if (body.length === 0) return {};
  const mediaType = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (mediaType === "application/json" || mediaType === "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch (err) {
      throw new ApiError(
        "bad-request",
        `the request body is not valid JSON: ${(err as Error).message}`,
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ApiError("bad-request", "the request body must be a JSON object");
    }
    return parsed as RawParameters;
  }
  if (mediaType === "application/x-www-form-urlencoded") {
    return fieldsOf(new URLSearchParams(body.toString("utf8")));
  }
  throw new ApiError(
    "unsupported-media-type",
    `unsupported content type ${JSON.stringify(mediaType)}: send application/json or application/x-www-form-urlencoded`,
  );
}
