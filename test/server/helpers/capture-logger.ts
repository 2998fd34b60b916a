import { Writable } from "node:stream";
import { type Logger, pino } from "pino";

/** A logger whose JSON lines are kept for assertions. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const text: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text.push(chunk.toString());
      done();
    },
  });
  return {
    logger: pino({ level: "debug" }, stream),
    lines: () =>
      text
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
