/**
 * The Error Node's own fs functions throw for a failed system call (`code`, negative `errno`,
 * `syscall`, `path`, "ENOENT: no such file or directory, open '/x'"), for errnos the addon
 * reports, so that messages and checks stay what they were with Node's calls.
 */
import { getSystemErrorMap } from "node:util";

export interface NodeFsError extends Error {
  readonly code: string;
  /** Negative, as Node reports it. */
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

const SYSTEM_ERRORS = getSystemErrorMap();

/** `errno` is positive, as the kernel returns it; `path` is decoded as Node decodes it. */
export function nodeFsError(errno: number, syscall: string, path?: Buffer): NodeFsError {
  // what libuv says of an errno it does not know
  const [code, description] = SYSTEM_ERRORS.get(-errno) ?? ["UNKNOWN", "unknown error"];
  const text = path?.toString();
  const where = text === undefined ? "" : ` '${text}'`;
  const error = new Error(`${code}: ${description}, ${syscall}${where}`);
  return Object.assign(error, {
    errno: -errno,
    code,
    syscall,
    ...(text === undefined ? {} : { path: text }),
  });
}
