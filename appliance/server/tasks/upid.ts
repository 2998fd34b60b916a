import { TaskError } from "./task-errors.js";

/**
 * A task's unique id as PBS writes it (pbs-formats.md §13):
 * `UPID:<node>:<pid HEX8>:<pstart HEX8>:<task_id HEX8>:<starttime HEX8>:<type>:<id>:<auth_id>:`.
 * The worker id is systemd-escaped, so it never holds ':' or whitespace.
 */
export interface Upid {
  node: string;
  pid: number;
  /** Process start time (clock ticks since boot on Linux): tells a reused pid apart. */
  pstart: number;
  taskId: number;
  /** Unix epoch seconds. */
  startTime: number;
  workerType: string;
  /** Unescaped; undefined when the task has none. */
  workerId?: string;
  authId: string;
}

const UPID_PATTERN =
  /^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8,16}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;
const WORKER_TYPE = /^[A-Za-z0-9_-]+$/;

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, "0");
}

/**
 * systemd's unit-name escaping, as PBS applies it to worker ids: '/' becomes '-', and every byte
 * other than ASCII letters, digits, '_' and '.' (or a leading '.') becomes `\xNN`.
 */
export function escapeWorkerId(id: string): string {
  let out = "";
  const bytes = Buffer.from(id, "utf8");
  bytes.forEach((byte, index) => {
    const plain =
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x5f ||
      (byte === 0x2e && index > 0);
    if (byte === 0x2f) out += "-";
    else if (plain) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, "0")}`;
  });
  return out;
}

export function unescapeWorkerId(escaped: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const char = escaped[i]!;
    if (char === "-") bytes.push(0x2f);
    else if (
      char === "\\" &&
      escaped[i + 1] === "x" &&
      /^[0-9a-fA-F]{2}$/.test(escaped.slice(i + 2, i + 4))
    ) {
      bytes.push(Number.parseInt(escaped.slice(i + 2, i + 4), 16));
      i += 3;
    } else bytes.push(char.charCodeAt(0));
  }
  return Buffer.from(bytes).toString("utf8");
}

export function formatUpid(upid: Upid): string {
  if (!WORKER_TYPE.test(upid.workerType)) throw new Error(`bad worker type ${upid.workerType}`);
  const workerId = upid.workerId === undefined ? "" : escapeWorkerId(upid.workerId);
  return `UPID:${upid.node}:${hex8(upid.pid)}:${hex8(upid.pstart)}:${hex8(upid.taskId)}:${hex8(upid.startTime)}:${upid.workerType}:${workerId}:${upid.authId}:`;
}

export function parseUpid(text: string): Upid {
  const match = UPID_PATTERN.exec(text);
  if (!match) {
    throw new TaskError("bad-upid", `invalid UPID ${JSON.stringify(text.slice(0, 200))}`);
  }
  const [, node, pid, pstart, taskId, startTime, workerType, workerId, authId] = match;
  return {
    node: node!,
    pid: Number.parseInt(pid!, 16),
    pstart: Number.parseInt(pstart!, 16),
    taskId: Number.parseInt(taskId!, 16),
    startTime: Number.parseInt(startTime!, 16),
    workerType: workerType!,
    ...(workerId !== "" && { workerId: unescapeWorkerId(workerId!) }),
    authId: authId!,
  };
}
