import { z } from "zod";
import { parseAuthId } from "./auth-id.js";
import { describeIssues } from "./config-error.js";
import { parseSecretHash } from "./password-hash.js";

/** Password hashes of users, by user id. */
export const PASSWORD_FILE = "shadow.json";
/** Secret hashes of API tokens, by token id. */
export const TOKEN_SECRET_FILE = "token.shadow";

/** Auth id → scrypt hash; the same JSON shape for shadow.json and token.shadow. */
export type SecretsFile = ReadonlyMap<string, string>;

const fileSchema = z.record(z.string(), z.string());

/** Parses a secrets file; throws an Error naming the entry and the problem. */
export function parseSecretsFile(text: string, kind: "user" | "token"): SecretsFile {
  const result = fileSchema.safeParse(JSON.parse(text));
  if (!result.success) throw new Error(describeIssues(result.error));
  const secrets = new Map<string, string>();
  for (const [authId, hash] of Object.entries(result.data)) {
    const where = `[${JSON.stringify(authId)}]`;
    const parsed = parseAuthId(authId, where);
    if ((parsed.tokenName !== undefined) !== (kind === "token")) {
      throw new Error(`${where}: expected a ${kind} id`);
    }
    try {
      parseSecretHash(hash);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
    secrets.set(authId, hash);
  }
  return secrets;
}

export function serializeSecretsFile(secrets: SecretsFile): string {
  const entries = [...secrets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`;
}
