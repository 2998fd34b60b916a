import { SystemError } from "../errors.js";
import { parseZfsSize } from "./sizes.js";

export interface VdevNode {
  name: string;
  /** ONLINE, DEGRADED, OFFLINE, FAULTED, UNAVAIL, REMOVED, AVAIL (spares), INUSE… */
  state?: string;
  read: number;
  write: number;
  cksum: number;
  /** Text after the counters, e.g. "(resilvering)" or "was /dev/sdb1". */
  note?: string;
  children: VdevNode[];
}

export interface PoolStatus {
  name: string;
  state: string;
  id?: string;
  status?: string;
  action?: string;
  see?: string;
  /** OpenZFS's "scan:" line, or zfs-fuse's "scrub:" line, continuation lines joined. */
  scan?: string;
  errors?: string;
  /** The pool's own row with its vdevs below. */
  tree?: VdevNode;
  /** Top-level sections after the pool row: logs, cache, spares, special, dedup. */
  sections: Record<string, VdevNode[]>;
}

const KEY_LINE = /^ *([a-z]+): ?(.*)$/;
/** Section keys of both CLIs; anything else is a continuation (file names after "errors:"). */
const KEYS = new Set([
  "pool",
  "id",
  "state",
  "status",
  "action",
  "see",
  "scan",
  "scrub",
  "config",
  "errors",
  "remove",
  "checkpoint",
  "comment",
]);

/** `zpool status` output of one or more pools (both CLIs) as trees. */
export function parseZpoolStatus(text: string): PoolStatus[] {
  const pools: PoolStatus[] = [];
  let current: Record<string, string> | undefined;
  let configLines: string[] = [];
  let key: string | undefined;
  const finish = () => {
    if (current) pools.push(buildPool(current, configLines));
    current = undefined;
    configLines = [];
  };
  for (const line of text.split("\n")) {
    const match = KEY_LINE.exec(line);
    const [, name, value] = (match ?? []) as (string | undefined)[];
    if (name !== undefined && value !== undefined && KEYS.has(name)) {
      if (name === "pool") finish();
      current ??= {};
      key = name;
      current[name] = value.trim();
      continue;
    }
    if (!current || key === undefined) continue;
    if (key === "config") configLines.push(line);
    else if (line.trim() !== "") current[key] = `${current[key]} ${line.trim()}`.trim();
  }
  finish();
  return pools;
}

function buildPool(fields: Record<string, string>, configLines: string[]): PoolStatus {
  if (!fields.pool || !fields.state) {
    throw new SystemError("parse-failed", "zpool status: a pool without name or state", {
      fields,
    });
  }
  const pool: PoolStatus = { name: fields.pool, state: fields.state, sections: {} };
  for (const name of ["id", "status", "action", "see", "errors"] as const) {
    if (fields[name] !== undefined) pool[name] = fields[name];
  }
  const scan = fields.scan ?? fields.scrub;
  if (scan !== undefined) pool.scan = scan;
  const roots = parseConfig(configLines);
  const first = roots.shift();
  if (first) pool.tree = first;
  for (const section of roots) pool.sections[section.name] = section.children;
  return pool;
}

/** The indented NAME/STATE/READ/WRITE/CKSUM table: a tab, then two spaces per level. */
function parseConfig(lines: string[]): VdevNode[] {
  const roots: VdevNode[] = [];
  const stack: { depth: number; node: VdevNode }[] = [];
  for (const line of lines) {
    if (!line.startsWith("\t") || line.trim() === "") continue;
    const body = line.slice(1);
    const depth = (body.length - body.trimStart().length) / 2;
    const cells = body.trim().split(/\s+/);
    if (cells[0] === "NAME" && cells[1] === "STATE") continue;
    const node = parseRow(cells);
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) parent.node.children.push(node);
    else roots.push(node);
    stack.push({ depth, node });
  }
  return roots;
}

function parseRow(cells: string[]): VdevNode {
  const [name, state, read, write, cksum, ...rest] = cells as [string, ...string[]];
  const node: VdevNode = { name, read: 0, write: 0, cksum: 0, children: [] };
  if (state !== undefined) node.state = state;
  const counters = [read, write, cksum];
  if (counters.every((cell) => cell !== undefined && /^\d/.test(cell))) {
    node.read = parseZfsSize(read!);
    node.write = parseZfsSize(write!);
    node.cksum = parseZfsSize(cksum!);
    if (rest.length > 0) node.note = rest.join(" ");
  } else {
    const note = counters.filter((cell) => cell !== undefined).concat(rest);
    if (note.length > 0) node.note = note.join(" ");
  }
  return node;
}

/** Every leaf device name in a pool's tree and sections (zfs-fuse and OpenZFS print bare names). */
export function poolDevices(pool: PoolStatus): string[] {
  const leaves: string[] = [];
  const walk = (node: VdevNode) => {
    if (node.children.length === 0) leaves.push(node.name);
    else node.children.forEach(walk);
  };
  pool.tree?.children.forEach(walk);
  Object.values(pool.sections).flat().forEach(walk);
  return leaves;
}
