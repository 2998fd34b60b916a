import { SystemError } from "../errors.js";
import { parseOptionalZfsSize, parsePercent } from "./sizes.js";

export interface PoolSummary {
  name: string;
  /** Bytes; absent when the CLI shows "-" (a FAULTED or UNAVAIL pool has no known size). */
  size?: number;
  alloc?: number;
  free?: number;
  health: string;
  /** Percent; absent where the CLI has no such property (zfs-fuse) or shows "-". */
  frag?: number;
  /** False when the CLI printed rounded human sizes (zfs-fuse has no `-p`). */
  exact: boolean;
}

/** The columns asked of `zpool list -H -o …`: fragmentation only where it exists. */
export function poolListColumns(withFragmentation: boolean): string[] {
  return withFragmentation
    ? ["name", "size", "allocated", "free", "fragmentation", "health"]
    : ["name", "size", "allocated", "free", "health"];
}

/** Tab-separated `zpool list -H [-p] -o <columns>` output, one pool a line. */
export function parseZpoolList(text: string, columns: string[], exact: boolean): PoolSummary[] {
  const pools: PoolSummary[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const cells = line.split("\t");
    if (cells.length !== columns.length) {
      throw new SystemError("parse-failed", `zpool list: expected ${columns.length} columns`, {
        line,
      });
    }
    const row = Object.fromEntries(columns.map((column, i) => [column, cells[i]!]));
    const pool: PoolSummary = { name: row.name!, health: row.health!, exact };
    const size = parseOptionalZfsSize(row.size!);
    const alloc = parseOptionalZfsSize(row.allocated!);
    const free = parseOptionalZfsSize(row.free!);
    if (size !== undefined) pool.size = size;
    if (alloc !== undefined) pool.alloc = alloc;
    if (free !== undefined) pool.free = free;
    const frag = row.fragmentation === undefined ? undefined : parsePercent(row.fragmentation);
    if (frag !== undefined) pool.frag = frag;
    pools.push(pool);
  }
  return pools;
}
