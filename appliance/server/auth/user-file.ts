import { z } from "zod";
import { BUILTIN_REALM, parseTokenId, parseUserId, SUPERUSER_ID } from "./auth-id.js";
import { describeIssues } from "./config-error.js";

export const USER_FILE = "user.json";

/** Free text on one line (comments, names, e-mail addresses). */
export const singleLine = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\r\n]*$/, "must be a single line");

/** Seconds since the epoch after which the account stops working; 0 = never. */
export const expireSchema = z
  .number()
  .int()
  .min(0)
  .max(2 ** 53 - 1);

const userRecordSchema = z.strictObject({
  enable: z.boolean().default(true),
  expire: expireSchema.default(0),
  comment: singleLine(256).optional(),
  firstname: singleLine(128).optional(),
  lastname: singleLine(128).optional(),
  email: singleLine(256).optional(),
});

const tokenRecordSchema = z.strictObject({
  enable: z.boolean().default(true),
  expire: expireSchema.default(0),
  comment: singleLine(256).optional(),
});

const fileSchema = z.strictObject({
  users: z.record(z.string(), userRecordSchema).default({}),
  tokens: z.record(z.string(), tokenRecordSchema).default({}),
});

export type UserRecord = z.infer<typeof userRecordSchema>;
export type TokenRecord = z.infer<typeof tokenRecordSchema>;

/** Users and API tokens (no secrets: those live in shadow.json and token.shadow). */
export interface UserFile {
  users: ReadonlyMap<string, UserRecord>;
  tokens: ReadonlyMap<string, TokenRecord>;
}

/** The record of the built-in superuser when the file doesn't describe it. */
export const SUPERUSER_RECORD: UserRecord = { enable: true, expire: 0, comment: "Superuser" };

export function emptyUserFile(): UserFile {
  return { users: new Map([[SUPERUSER_ID, SUPERUSER_RECORD]]), tokens: new Map() };
}

/** Parses user.json; throws an Error naming the entry and the problem. */
export function parseUserFile(text: string): UserFile {
  const result = fileSchema.safeParse(JSON.parse(text));
  if (!result.success) throw new Error(describeIssues(result.error));
  const users = new Map<string, UserRecord>([[SUPERUSER_ID, SUPERUSER_RECORD]]);
  for (const [userId, record] of Object.entries(result.data.users)) {
    const parsed = parseUserId(userId, `users[${JSON.stringify(userId)}]`);
    if (parsed.realm !== BUILTIN_REALM && userId !== SUPERUSER_ID) {
      throw new Error(`users[${JSON.stringify(userId)}]: only realm ${BUILTIN_REALM} is supported`);
    }
    users.set(userId, record);
  }
  const tokens = new Map<string, TokenRecord>();
  for (const [tokenId, record] of Object.entries(result.data.tokens)) {
    const parsed = parseTokenId(tokenId, `tokens[${JSON.stringify(tokenId)}]`);
    if (!users.has(parsed.userId)) {
      throw new Error(`tokens[${JSON.stringify(tokenId)}]: no user ${parsed.userId}`);
    }
    tokens.set(tokenId, record);
  }
  return { users, tokens };
}

export function serializeUserFile(file: UserFile): string {
  const sorted = <T>(map: ReadonlyMap<string, T>) =>
    Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ users: sorted(file.users), tokens: sorted(file.tokens) }, null, 2)}\n`;
}
