import { isDatastoreError } from "../datastore/errors.js";
import type { IndexCloseResult } from "../format/index-file.js";
import { ProtocolError } from "./errors.js";

export type IndexKind = "fixed" | "dynamic";

/** One entry of a PUT append, its digest resolved to the chunk length the session knows. */
export interface AppendEntry {
  digest: Buffer;
  offset: number;
  size: number;
}

/** What the client says about an index when it closes it (`POST /…_close`). */
export interface CloseRequest {
  chunkCount: number;
  size: number;
  csum: string;
}

/** An index a backup session is writing, addressed by its writer id. */
export interface SessionIndex {
  readonly wid: number;
  readonly kind: IndexKind;
  readonly name: string;
  /** Refuses, before its body is read, a chunk upload that cannot belong to this writer. */
  checkChunkSize(size: number): void;
  /** Records an uploaded chunk; throws when it breaks the writer's rules. */
  chunkUploaded(size: number): void;
  /** Appends a batch: every entry is checked before any is written. */
  append(entries: readonly AppendEntry[]): Promise<void>;
  /** Checks the client's figures, then finishes the index; any failure discards it. */
  close(request: CloseRequest): Promise<IndexCloseResult>;
  /** Drops the unfinished index. */
  discard(): Promise<void>;
}

/** How messages name a writer: `fixed writer 1 (disk.img.fidx)`. */
export function writerLabel(index: { kind: IndexKind; wid: number; name: string }): string {
  return `${index.kind} writer ${index.wid} (${index.name})`;
}

/** The 400 for close figures that do not match what was appended. */
export function closeMismatch(
  index: { kind: IndexKind; wid: number; name: string },
  problems: string[],
): ProtocolError {
  return new ProtocolError(
    "close-mismatch",
    `${writerLabel(index)} close failed - ${problems.join("; ")}`,
    { wid: index.wid, archive: index.name },
  );
}

/** The datastore's checksum refusal (index already discarded) as the protocol's close mismatch. */
export function asCloseMismatch(
  index: { kind: IndexKind; wid: number; name: string },
  err: unknown,
  csum: string,
): unknown {
  if (!isDatastoreError(err, "manifest-mismatch")) return err;
  const actual = err.context.csum;
  return closeMismatch(index, [`csum ${csum} does not match the index checksum ${String(actual)}`]);
}
