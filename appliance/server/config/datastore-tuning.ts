import type { SyncLevel } from "../../datastore/chunk-store.js";
import { ConfigError } from "./config-errors.js";

/** The datastore `tuning` property string, e.g. `sync-level=file,chunk-order=none` (§5). */
export interface DatastoreTuning {
  "sync-level"?: SyncLevel;
  "chunk-order"?: "none" | "inode";
  /** Minutes. */
  "gc-atime-cutoff"?: number;
  "gc-atime-safety-check"?: boolean;
  "gc-cache-capacity"?: number;
}

type Parser = (value: string) => unknown;

function oneOf(...allowed: string[]): Parser {
  return (value) => (allowed.includes(value) ? value : undefined);
}

function wholeNumber(min: number, max: number): Parser {
  return (value) => {
    const number = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
    return number >= min && number <= max ? number : undefined;
  };
}

const FIELDS: Record<keyof DatastoreTuning, { parse: Parser; rule: string }> = {
  "sync-level": { parse: oneOf("none", "file", "filesystem"), rule: "none, file or filesystem" },
  "chunk-order": { parse: oneOf("none", "inode"), rule: "none or inode" },
  "gc-atime-cutoff": { parse: wholeNumber(1, 2880), rule: "minutes from 1 to 2880" },
  "gc-atime-safety-check": {
    parse: (value) => ({ "1": true, true: true, "0": false, false: false })[value],
    rule: "true or false",
  },
  "gc-cache-capacity": { parse: wholeNumber(0, 8 * 1024 * 1024), rule: "0 to 8388608" },
};

function bad(message: string): ConfigError {
  return new ConfigError("bad-value", `invalid tuning: ${message}`, { field: "tuning" });
}

export function parseTuning(text: string): DatastoreTuning {
  const tuning: Record<string, unknown> = {};
  if (text.trim() === "") return tuning;
  for (const part of text.split(",")) {
    const at = part.indexOf("=");
    const key = (at < 0 ? part : part.slice(0, at)).trim();
    const field = FIELDS[key as keyof DatastoreTuning];
    if (field === undefined) {
      throw bad(`unknown option ${JSON.stringify(key)} (known: ${Object.keys(FIELDS).join(", ")})`);
    }
    if (key in tuning) throw bad(`${key} given twice`);
    const value = field.parse(at < 0 ? "" : part.slice(at + 1).trim());
    if (value === undefined) throw bad(`${key} must be ${field.rule}`);
    tuning[key] = value;
  }
  return tuning as DatastoreTuning;
}

/** The canonical property string: known options in a fixed order. */
export function formatTuning(tuning: DatastoreTuning): string {
  return (Object.keys(FIELDS) as (keyof DatastoreTuning)[])
    .filter((key) => tuning[key] !== undefined)
    .map((key) => `${key}=${String(tuning[key])}`)
    .join(",");
}
