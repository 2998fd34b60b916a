import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { type FileOwner, giveTo } from "./file-owner.js";

/** Local time with its UTC offset, as PBS stamps task log lines: `2024-06-01T10:00:00+02:00`. */
export function localTimestamp(date = new Date()): string {
  const pad = (value: number) => String(Math.abs(value)).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}

/** The append-only log file of one task: every line stamped with the time it was written. */
export class TaskLogWriter {
  private constructor(private readonly stream: WriteStream) {}

  static async open(path: string, owner?: FileOwner): Promise<TaskLogWriter> {
    await mkdir(dirname(path), { recursive: true });
    const stream = createWriteStream(path, { flags: "a", mode: 0o640 });
    await once(stream, "open");
    await giveTo(owner, [dirname(path), path]);
    return new TaskLogWriter(stream);
  }

  /** Writes each line of `text` separately, so the log stays one message per line. */
  write(text: string): void {
    const stamp = localTimestamp();
    for (const line of text.split(/\r?\n/)) this.stream.write(`${stamp}: ${line}\n`);
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, "close");
  }
}

export interface TaskLogLine {
  /** Line number, counting from 1. */
  n: number;
  t: string;
}

/** Lines `start` (0-based) onwards, at most `limit` of them (0: all), and the total count. */
export async function readTaskLog(
  path: string,
  start: number,
  limit: number,
): Promise<{ lines: TaskLogLine[]; total: number }> {
  const text = await readFile(path, "utf8");
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop();
  const end = limit === 0 ? all.length : Math.min(all.length, start + limit);
  const lines: TaskLogLine[] = [];
  for (let i = start; i < end; i++) lines.push({ n: i + 1, t: all[i]! });
  return { lines, total: all.length };
}
