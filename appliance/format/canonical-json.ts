import { FormatError } from "./errors.js";

/**
 * Canonical JSON as PBS signs it (proxmox-serde's canonical writer, pbs-formats.md §4): object
 * keys sorted by their UTF-8 bytes, no whitespace, arrays in order, strings escaped as serde_json
 * escapes them, `null` refused.
 *
 * Numbers: only integers within ±(2^53 − 1) are accepted, printed in plain decimal. serde_json
 * prints floats its own way (`1.0`, `1e21`, `-0.0`) and JSON.parse has already turned `1.0` into
 * `1`, so a float could not be signed the way PBS would sign it; nothing PBS signs holds one.
 * Properties whose value is `undefined` are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  writeValue(value, "$", out, new Set());
  return out.join("");
}

function writeValue(value: unknown, path: string, out: string[], open: Set<object>): void {
  switch (typeof value) {
    case "string":
      out.push(quoteString(value, path));
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      out.push(integerText(value, path));
      return;
    case "object":
      if (value === null) refuse(path, "null has no canonical form (PBS refuses it)");
      if (open.has(value)) refuse(path, "the value contains itself");
      open.add(value);
      if (Array.isArray(value)) writeArray(value, path, out, open);
      else writeObject(value, path, out, open);
      open.delete(value);
      return;
    default:
      refuse(path, `a ${typeof value} has no JSON form`);
  }
}

function writeArray(items: unknown[], path: string, out: string[], open: Set<object>): void {
  out.push("[");
  items.forEach((item, i) => {
    if (i > 0) out.push(",");
    if (item === undefined) refuse(`${path}[${i}]`, "an array element is undefined");
    writeValue(item, `${path}[${i}]`, out, open);
  });
  out.push("]");
}

function writeObject(object: object, path: string, out: string[], open: Set<object>): void {
  const prototype = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    refuse(path, "only plain objects and arrays have a canonical form");
  }
  const record = object as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort(compareUtf8);
  out.push("{");
  keys.forEach((key, i) => {
    if (i > 0) out.push(",");
    out.push(quoteString(key, `${path} key`), ":");
    writeValue(record[key], `${path}.${key}`, out, open);
  });
  out.push("}");
}

/** Orders strings by their UTF-8 bytes (= code point order), not by UTF-16 code units. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** serde_json escapes only `"`, `\` and U+0000–U+001F; everything else stays raw UTF-8. */
function quoteString(text: string, path: string): string {
  if (/\p{Surrogate}/u.test(text)) {
    refuse(path, "a string holds a lone surrogate, which has no UTF-8 form");
  }
  const escaped = text.replace(
    /["\\\u0000-\u001f]/g,
    (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `"${escaped}"`;
}

function integerText(value: number, path: string): string {
  if (Object.is(value, -0)) refuse(path, "-0 is a float to serde_json (-0.0)");
  if (!Number.isSafeInteger(value)) {
    refuse(
      path,
      `${value} is not an integer within ±(2^53 − 1); floats are not signed canonically`,
    );
  }
  return String(value);
}

function refuse(path: string, reason: string): never {
  throw new FormatError("invalid-argument", `canonical JSON: ${reason} (at ${path})`, { path });
}
