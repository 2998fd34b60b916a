import { type DestinationStream, type Logger, pino } from "pino";

/** Structured JSON lines, one per event, as the daemon writes them to stdout. */
export function createLogger(
  options: { level?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    { name: "cairn-server", level: options.level ?? "info", base: { pid: process.pid } },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
