import { readFileSync } from "node:fs";
import { CairnError } from "../errors.js";

/**
 * Reads a secret the PBS way from the environment: `NAME` itself, else the first line of the file
 * named by `NAME_FILE`, else the first line read from file descriptor `NAME_FD`. Undefined if unset.
 */
export function secretFromEnv(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const direct = env[name];
  if (direct !== undefined) return direct;
  const file = env[`${name}_FILE`];
  if (file !== undefined)
    return firstLine(readSecretSource(`${name}_FILE`, () => readFileSync(file, "utf8")));
  const fd = env[`${name}_FD`];
  if (fd !== undefined) {
    const number = Number(fd);
    if (!Number.isInteger(number) || number < 0) {
      throw new CairnError(
        "CAIRN_E_BAD_ENV",
        `${name}_FD must be a file descriptor number, got '${fd}'`,
      );
    }
    return firstLine(readSecretSource(`${name}_FD`, () => readFileSync(number, "utf8")));
  }
  return undefined;
}

function readSecretSource(variable: string, read: () => string): string {
  try {
    return read();
  } catch (err) {
    throw new CairnError(
      "CAIRN_E_BAD_ENV",
      `cannot read the secret named by ${variable}: ${(err as Error).message}`,
    );
  }
}

function firstLine(text: string): string {
  const end = text.search(/\r?\n/);
  return end === -1 ? text : text.slice(0, end);
}
