/**
 * Exclude patterns with the PBS archiver's rules: `--exclude` arguments and the lines of
 * `.pxarexclude` files. Paths are matched as "/" + the path from the archive root.
 *
 * - `#` starts a comment line (files only); blank lines are ignored; file lines are trimmed.
 * - `!` makes a pattern an include: it re-includes what an earlier pattern excluded.
 * - A trailing `/` matches directories only.
 * - A leading `/` anchors the pattern: in a `.pxarexclude` at the directory the file is in, for
 *   `--exclude` at the archive root; the whole path must match. Without it the pattern matches
 *   any trailing run of whole components (`*.tmp` any name, `a/b` any path ending in `a/b`).
 * - The last pattern that matches decides; patterns from a `.pxarexclude` apply below its
 *   directory only and come after those of the directories above and after `--exclude`.
 * - An excluded directory is not read, so nothing below it can be re-included.
 */
import { compileGlob } from "./glob.js";

export type MatchType = "include" | "exclude";

export interface PathPattern {
  /** The pattern as written, without `!` and a trailing `/` (a leading `/` is kept). */
  readonly text: string;
  readonly type: MatchType;
  readonly anchored: boolean;
  readonly directoriesOnly: boolean;
  readonly regex: RegExp;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/** Parses one pattern; `defaultType` is what a pattern without `!` does. */
export function parsePattern(line: string, defaultType: MatchType = "exclude"): PathPattern {
  let text = line;
  let type = defaultType;
  if (text.startsWith("!")) {
    type = defaultType === "exclude" ? "include" : "exclude";
    text = text.slice(1);
  }
  let directoriesOnly = false;
  while (text.length > 1 && text.endsWith("/")) {
    directoriesOnly = true;
    text = text.slice(0, -1);
  }
  const anchored = text.startsWith("/");
  const bytes = Buffer.from(text, "utf8").toString("latin1");
  return { text, type, anchored, directoriesOnly, regex: compileGlob(bytes) };
}

/**
 * The lines of a `.pxarexclude` in the directory at `directory` ("" for the root, else the path
 * from the root without a leading '/'): parsed patterns, anchored ones rooted at that directory,
 * and the lines that could not be parsed.
 */
export function parseExcludeFile(
  content: Buffer,
  directory: Buffer,
): { patterns: PathPattern[]; bad: { line: string; error: unknown }[] } {
  const patterns: PathPattern[] = [];
  const bad: { line: string; error: unknown }[] = [];
  const prefix = directory.length === 0 ? "" : `/${directory.toString("utf8")}`;
  for (const raw of content.toString("utf8").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negated = line.startsWith("!");
    const body = negated ? line.slice(1) : line;
    const rooted = body.startsWith("/") ? `${prefix}${body}` : body;
    try {
      patterns.push(parsePattern(negated ? `!${rooted}` : rooted));
    } catch (error) {
      bad.push({ line, error });
    }
  }
  return { patterns, bad };
}

/** Whether one pattern matches `path` ("/a/b" as latin1 bytes) of an entry with `mode`. */
export function patternMatches(pattern: PathPattern, path: string, mode: number): boolean {
  if (pattern.directoriesOnly && (mode & S_IFMT) !== S_IFDIR) return false;
  if (pattern.anchored) return pattern.regex.test(path);
  for (let at = path.indexOf("/"); at >= 0; at = path.indexOf("/", at + 1)) {
    if (pattern.regex.test(path.slice(at + 1))) return true;
  }
  return false;
}

/** The last matching pattern's type, or undefined when none matches. */
export function matchPath(
  patterns: readonly PathPattern[],
  path: Uint8Array,
  mode: number,
): MatchType | undefined {
  const text = Buffer.from(path.buffer, path.byteOffset, path.length).toString("latin1");
  for (let index = patterns.length - 1; index >= 0; index--) {
    const pattern = patterns[index]!;
    if (patternMatches(pattern, text, mode)) return pattern.type;
  }
  return undefined;
}

/**
 * The pattern list as the PBS client stores it (`.pxarexclude-cli` content, split-archive
 * prelude): one line each, includes prefixed with `!`, directory-only patterns ending in `/`.
 */
export function patternLines(patterns: readonly PathPattern[]): string {
  return patterns
    .map((pattern) => {
      const bang = pattern.type === "include" ? "!" : "";
      const slash = pattern.directoriesOnly ? "/" : "";
      return `${bang}${pattern.text}${slash}\n`;
    })
    .join("");
}
