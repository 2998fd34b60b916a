import { z } from "zod";
import { parseAclPath } from "./acl-path.js";
import { parseAuthId, parseUserId, validateTokenName } from "./auth-id.js";
import { ROLE_NAMES } from "./privileges.js";
import { expireSchema, singleLine } from "./user-file.js";

/** A string accepted when `check` doesn't throw; its message becomes the validation issue. */
function checkedString(check: (value: string) => unknown, max: number) {
  return z
    .string()
    .max(max)
    .superRefine((value, ctx) => {
      try {
        check(value);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    });
}

export const userIdSchema = checkedString((v) => parseUserId(v), 64);
export const authIdSchema = checkedString((v) => parseAuthId(v), 64);
export const tokenNameSchema = checkedString((v) => validateTokenName(v), 64);
export const aclPathSchema = checkedString((v) => parseAclPath(v), 128);
export const roleSchema = z.enum(ROLE_NAMES);
export const commentSchema = singleLine(256);

/** New passwords: long enough to mean something, short enough to hash without fuss. */
export const newPasswordSchema = z.string().min(8).max(1024);

/** A boolean as PBS accepts it, also from a query string: 1/0, true/false, yes/no, on/off. */
export const pbsBoolean = z
  .union([
    z.boolean(),
    z.literal(0),
    z.literal(1),
    z.stringFormat("pbs-boolean", /^(?:1|0|true|false|yes|no|on|off)$/i),
  ])
  .transform((v) =>
    typeof v === "boolean" ? v : ["1", "true", "yes", "on"].includes(String(v).toLowerCase()),
  );

/** Epoch seconds (0 = never), also as a decimal string from a query string. */
export const expireParam = z
  .union([expireSchema, z.string().regex(/^\d{1,15}$/)])
  .transform(Number)
  .pipe(expireSchema);

/** A list parameter given as an array or as one comma-separated string. */
export function listParam<T extends readonly [string, ...string[]]>(values: T) {
  return z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (typeof v === "string" ? v.split(",").filter((s) => s !== "") : v))
    .pipe(z.array(z.enum(values)));
}
