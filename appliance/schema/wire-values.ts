import { z } from "zod";

/**
 * Parameter values as they arrive on the wire: query strings and form bodies deliver text, JSON bodies
 * typed values, so numbers and booleans accept both spellings. Each schema states its rule in the
 * message a refused request answers with. Shared by the REST API and the backup/reader protocols.
 */

const INTEGER_TEXT = /^[+-]?[0-9]{1,16}$/;
const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

/** A whole number within [min, max], given as a number or as decimal text. */
export function wireInteger(min: number, max = Number.MAX_SAFE_INTEGER) {
  const rule = `must be a whole number from ${min} to ${max}`;
  return z.preprocess(
    (value) => (typeof value === "string" && INTEGER_TEXT.test(value) ? Number(value) : value),
    z
      .number({ error: rule })
      .int({ error: rule })
      .min(min, { error: rule })
      .max(max, { error: rule }),
  );
}

/** true/false, also as 1/0, yes/no, on/off (PBS's boolean parser; its client sends `false`). */
export function wireBoolean() {
  const rule = "must be a boolean (true/false, 1/0, yes/no, on/off)";
  return z.preprocess(
    (value) => {
      if (typeof value !== "string") return value;
      const word = value.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return value;
    },
    z.boolean({ error: rule }),
  );
}
