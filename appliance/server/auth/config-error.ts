import type { z } from "zod";

/** One zod issue as `users["bob@pbs"].enable: expected boolean`. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path
    .map((key, i) =>
      typeof key === "number"
        ? `[${key}]`
        : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(String(key))
          ? `${i === 0 ? "" : "."}${String(key)}`
          : `[${JSON.stringify(String(key))}]`,
    )
    .join("");
  return where === "" ? issue.message : `${where}: ${issue.message}`;
}

/** All issues of a failed parse, joined into one line. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map(describeIssue).join("; ");
}
