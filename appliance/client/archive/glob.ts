/**
 * Glob patterns as the PBS archiver matches paths (fnmatch with path names): `*` and `?` stay
 * within one path component, `**` crosses them (`**∕` also matching no directory at all),
 * `[…]` / `[!…]` / `[^…]` are byte classes with ranges, `\` escapes. Patterns and paths are
 * compared byte by byte, each byte one latin1 character of the strings matched.
 */

/** Thrown for a pattern that cannot be compiled (an unterminated escape). */
export class GlobSyntaxError extends Error {
  override name = "GlobSyntaxError";
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/-]/;

function literal(char: string): string {
  return REGEX_SPECIAL.test(char) ? `\\${char}` : char;
}

/** Compiles a glob (as latin1 bytes) into a regular expression matching the whole string. */
export function compileGlob(pattern: string): RegExp {
  let out = "";
  let at = 0;
  while (at < pattern.length) {
    const char = pattern[at]!;
    if (char === "\\") {
      if (at + 1 >= pattern.length) throw new GlobSyntaxError("pattern ends with a lone '\\'");
      out += literal(pattern[at + 1]!);
      at += 2;
    } else if (char === "*" && pattern[at + 1] === "*") {
      at += 2;
      while (pattern[at] === "*") at++;
      if (pattern[at] === "/") {
        out += "(?:.*/)?";
        at++;
      } else {
        out += ".*";
      }
    } else if (char === "*") {
      out += "[^/]*";
      at++;
    } else if (char === "?") {
      out += "[^/]";
      at++;
    } else if (char === "[") {
      const parsed = byteClass(pattern, at);
      out += parsed?.regex ?? "\\[";
      at = parsed?.end ?? at + 1;
    } else {
      out += literal(char);
      at++;
    }
  }
  return new RegExp(`^${out}$`, "s");
}

/** The class starting at `start` ('['), or undefined when it never closes (then '[' is literal). */
function byteClass(pattern: string, start: number): { regex: string; end: number } | undefined {
  let at = start + 1;
  const negated = pattern[at] === "!" || pattern[at] === "^";
  if (negated) at++;
  let body = "";
  let first = true;
  while (at < pattern.length && (first || pattern[at] !== "]")) {
    first = false;
    let char = pattern[at]!;
    if (char === "\\" && at + 1 < pattern.length) char = pattern[++at]!;
    if (pattern[at + 1] === "-" && at + 2 < pattern.length && pattern[at + 2] !== "]") {
      let to = pattern[at + 2]!;
      let skip = 3;
      if (to === "\\" && at + 3 < pattern.length) {
        to = pattern[at + 3]!;
        skip = 4;
      }
      body += `${literal(char)}-${literal(to)}`;
      at += skip;
    } else {
      body += literal(char);
      at++;
    }
  }
  if (at >= pattern.length) return undefined;
  // a class never matches the separator, as with fnmatch's FNM_PATHNAME
  return { regex: negated ? `[^/${body}]` : `(?!/)[${body}]`, end: at + 1 };
}
