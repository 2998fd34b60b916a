/**
 * The state of a `catalog shell` session over one archive's tree (from the catalog, or the
 * `.mpxar` of a split archive): where it is
 * (`cd`, `pwd`), what it shows (`ls`, `find`, `stat`) and what is selected for restore (`select`,
 * `deselect`, `list-selected`, `restore-selected`, `restore`). Paths are archive paths, "/" being
 * the archive's root. Reading lines and printing replies is the caller's business.
 */
import { MODE } from "../../format/pxar/constants.js";
import { matchPath, parsePattern } from "../archive/exclude.js";
import { ClientError } from "../errors.js";
import type { TreeDirectory, TreeEntry } from "./tree.js";

/** What the shell needs beyond the tree: the archive itself and a restore. */
export interface ShellActions {
  /** The `stat` lines of the entry at an archive path. */
  stat(path: string): Promise<string[]>;
  /** Restores what the patterns pick (everything when none) into `target`; a summary line. */
  restore(target: string, patterns: readonly string[]): Promise<string>;
}

export interface ShellReply {
  readonly lines: string[];
  /** The session ends (`exit`, `quit`). */
  readonly exit?: boolean;
}

export const SHELL_HELP = [
  "ls [PATH]                       list a directory",
  "cd [PATH]                       change directory (the archive root without PATH)",
  "pwd                             print the current directory",
  "stat PATH                       show an entry's metadata, read from the archive",
  "find GLOB [--select]            list (and select) entries whose path matches GLOB",
  "select PATH                     add an entry (a directory with all below it) for restore",
  "deselect PATH                   remove an entry from the selection",
  "clear-selected                  empty the selection",
  "list-selected                   print the selection as restore patterns",
  "restore-selected TARGET         restore the selection into the directory TARGET",
  "restore TARGET [GLOB]           restore everything, or what GLOB matches, into TARGET",
  "help                            this list",
  "exit                            leave the shell",
];

const SLASH = 0x2f;

export class CatalogShell {
  readonly #archive: TreeDirectory;
  readonly #actions: ShellActions;
  #cwd: Buffer[] = [];
  readonly #selected: string[] = [];

  constructor(archive: TreeDirectory, actions: ShellActions) {
    this.#archive = archive;
    this.#actions = actions;
  }

  /** The current directory as an archive path. */
  get cwd(): string {
    return archivePath(this.#cwd);
  }

  get prompt(): string {
    return `pxar:${this.cwd} > `;
  }

  /** Runs one command line; a bad command or path is a ClientError naming it. */
  async execute(line: string): Promise<ShellReply> {
    const [command, ...args] = splitWords(line);
    switch (command) {
      case undefined:
        return reply([]);
      case "pwd":
        return reply([this.cwd]);
      case "cd":
        return this.#cd(optionalArg(command, args));
      case "ls":
        return this.#ls(optionalArg(command, args));
      case "stat":
        return this.#stat(oneArg(command, args));
      case "find":
        return this.#findGlob(args);
      case "select":
        return this.#select(oneArg(command, args));
      case "deselect":
        return this.#deselect(oneArg(command, args));
      case "clear-selected":
        this.#selected.length = 0;
        return reply([]);
      case "list-selected":
        return reply([...this.#selected]);
      case "restore-selected":
        if (this.#selected.length === 0) {
          throw shellError("nothing is selected: use select PATH or find GLOB --select first");
        }
        return reply([await this.#actions.restore(oneArg(command, args), this.#selected)]);
      case "restore":
        return this.#restore(args);
      case "help":
        return reply(SHELL_HELP);
      case "exit":
      case "quit":
        return { lines: [], exit: true };
      default:
        throw shellError(`unknown command '${command}' (help lists them)`);
    }
  }

  async #cd(arg: string | undefined): Promise<ShellReply> {
    if (arg === undefined) {
      this.#cwd = [];
      return reply([]);
    }
    const { path, entry } = await this.#find(arg);
    if (entry.kind !== "directory") throw shellError(`${archivePath(path)} is not a directory`);
    this.#cwd = path;
    return reply([]);
  }

  async #ls(arg: string | undefined): Promise<ShellReply> {
    const { path, entry } = await this.#find(arg ?? ".");
    if (entry.kind !== "directory") return reply([archivePath(path)]);
    const entries = await entry.list();
    return reply(entries.map((child) => `${child.name.toString()}${suffix(child)}`));
  }

  async #stat(arg: string): Promise<ShellReply> {
    const { path } = await this.#find(arg);
    return reply(await this.#actions.stat(archivePath(path)));
  }

  async #findGlob(args: string[]): Promise<ShellReply> {
    const select = args.includes("--select");
    const rest = args.filter((arg) => arg !== "--select");
    if (rest.length !== 1) throw shellError("usage: find GLOB [--select]");
    const glob = rest[0]!;
    const pattern = parsePatternOrFail(glob);
    const found: string[] = [];
    const walk = async (directory: TreeDirectory, prefix: string): Promise<void> => {
      for (const entry of await directory.list()) {
        const path = `${prefix}/${entry.name.toString()}`;
        if (matchPath([pattern], Buffer.from(path), modeOf(entry)) === "include") found.push(path);
        if (entry.kind === "directory") await walk(entry, path);
      }
    };
    await walk(this.#archive, "");
    if (select && !this.#selected.includes(glob)) this.#selected.push(glob);
    return reply(found);
  }

  async #select(arg: string): Promise<ShellReply> {
    const { path } = await this.#find(arg);
    if (path.length === 0) throw shellError("the root cannot be selected: use restore TARGET");
    const pattern = escapeGlob(archivePath(path));
    if (!this.#selected.includes(pattern)) this.#selected.push(pattern);
    return reply([]);
  }

  async #deselect(arg: string): Promise<ShellReply> {
    const path = archivePath(this.#resolve(arg));
    const at = this.#selected.indexOf(escapeGlob(path));
    const index = at >= 0 ? at : this.#selected.indexOf(arg);
    if (index < 0) throw shellError(`${path} is not selected`);
    this.#selected.splice(index, 1);
    return reply([]);
  }

  async #restore(args: string[]): Promise<ShellReply> {
    if (args.length < 1 || args.length > 2) throw shellError("usage: restore TARGET [GLOB]");
    const [target, glob] = args as [string, string | undefined];
    if (glob !== undefined) parsePatternOrFail(glob);
    return reply([await this.#actions.restore(target, glob === undefined ? [] : [glob])]);
  }

  /** The entry at a path typed in the shell; a missing one is an error naming it. */
  async #find(arg: string): Promise<{ path: Buffer[]; entry: TreeEntry }> {
    const path = this.#resolve(arg);
    let entry: TreeEntry = this.#archive;
    for (const name of path) {
      const found: TreeEntry | undefined =
        entry.kind === "directory"
          ? (await entry.list()).find((child) => child.name.equals(name))
          : undefined;
      if (found === undefined) throw shellError(`no such entry: ${archivePath(path)}`);
      entry = found;
    }
    return { path, entry };
  }

  /** Components from the archive root, `.` and `..` applied (`..` stops at the root). */
  #resolve(arg: string): Buffer[] {
    const bytes = Buffer.from(arg, "utf8");
    const path = bytes[0] === SLASH ? [] : [...this.#cwd];
    for (const name of splitBytes(bytes)) {
      const text = name.toString("latin1");
      if (text === ".") continue;
      if (text === "..") path.pop();
      else path.push(name);
    }
    return path;
  }
}

function reply(lines: string[]): ShellReply {
  return { lines };
}

function shellError(message: string): ClientError {
  return new ClientError("bad-argument", message);
}

function oneArg(command: string, args: string[]): string {
  if (args.length !== 1) throw shellError(`usage: ${command} PATH`);
  return args[0]!;
}

function optionalArg(command: string, args: string[]): string | undefined {
  if (args.length > 1) throw shellError(`usage: ${command} [PATH]`);
  return args[0];
}

function parsePatternOrFail(glob: string) {
  try {
    return parsePattern(glob, "include");
  } catch (error) {
    throw shellError(`bad pattern ${JSON.stringify(glob)}: ${(error as Error).message}`);
  }
}

function archivePath(components: readonly Buffer[]): string {
  return `/${components.map((name) => name.toString()).join("/")}`;
}

/** A path as a pattern matching just itself. */
export function escapeGlob(path: string): string {
  return path.replace(/[\\*?[\]]/g, "\\$&");
}

function suffix(entry: TreeEntry): string {
  if (entry.kind === "directory") return "/";
  if (entry.kind === "symlink") return "@";
  return "";
}

/** Only the type matters to matching (directory-only patterns). */
function modeOf(entry: TreeEntry): number {
  return entry.kind === "directory" ? MODE.directory : MODE.regular;
}

function splitBytes(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== SLASH) continue;
    if (i > from) parts.push(bytes.subarray(from, i));
    from = i + 1;
  }
  return parts;
}

/** Words separated by blanks; '…' and "…" quote, a backslash escapes the next character. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote !== null) {
      if (char === quote) quote = null;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (char === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote !== null) throw shellError(`unclosed ${quote} in: ${line}`);
  if (word !== null) words.push(word);
  return words;
}
