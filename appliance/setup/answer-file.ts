import { parse, TomlError } from "smol-toml";
import { SetupError } from "./errors.js";
import { type SetupFacts, type SetupPlan, validatePlan } from "./plan.js";

/**
 * The plan an answer file describes: sections [network], [disks], [retention] and [admin] with
 * the plan's own keys, checked exactly as the screens check them. Errors name the key.
 */
export function planFromAnswerFile(tomlText: string, facts: SetupFacts = {}): SetupPlan {
  let document: unknown;
  try {
    document = parse(tomlText);
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : "";
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new SetupError("bad-answer-file", `not valid TOML${where}: ${first}`, {}, { cause: err });
  }
  // [install] is read by `cairn-setup install` (install/install-answer.ts); first boot skips it.
  if (document !== null && typeof document === "object" && "install" in document) {
    const { install: _install, ...rest } = document as Record<string, unknown>;
    document = rest;
  }
  try {
    return validatePlan(document, facts);
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    throw new SetupError("bad-answer-file", `answer file key ${err.message}`, err.context, {
      cause: err,
    });
  }
}
