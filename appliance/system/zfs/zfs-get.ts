import { SystemError } from "../errors.js";

export interface PropertyValue {
  value: string;
  /** "local", "default", "inherited from X", "-" … */
  source: string;
}

/** Properties by dataset (or pool) name, then by property name. */
export type PropertyMap = Map<string, Map<string, PropertyValue>>;

/** Tab-separated `zfs get -Hp` output: name, property, value, source per line. */
export function parseZfsGet(text: string): PropertyMap {
  const result: PropertyMap = new Map();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const cells = line.split("\t");
    if (cells.length !== 4) {
      throw new SystemError("parse-failed", "zfs get: expected 4 tab-separated columns", { line });
    }
    const [name, property, value, source] = cells as [string, string, string, string];
    let properties = result.get(name);
    if (!properties) {
      properties = new Map();
      result.set(name, properties);
    }
    properties.set(property, { value, source });
  }
  return result;
}
