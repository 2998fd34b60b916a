import type { Command } from "commander";
import { CalendarEvent } from "../jobs/calendar-event.js";

/** `YYYY-MM-DD HH:MM:SS` in the given (or the process's) zone. */
function localText(time: Date, timeZone: string | undefined): string {
  return time.toLocaleString("sv-SE", timeZone === undefined ? {} : { timeZone });
}

/** `cairn-manager calendar EVENT [--count N] [--from TIME] [--time-zone ZONE]`: next run times. */
export function registerCalendarCommand(program: Command): void {
  program
    .command("calendar <event>")
    .description("check a schedule (calendar event) and print its next run times")
    .option("--count <n>", "how many run times", "10")
    .option("--from <time>", "start after this time (ISO 8601; default now)")
    .option("--time-zone <zone>", "IANA time zone (default: the system's)")
    .action((text: string, options: { count: string; from?: string; timeZone?: string }) => {
      const count = Number(options.count);
      if (!Number.isSafeInteger(count) || count < 1 || count > 1000) {
        throw new Error("--count must be a whole number from 1 to 1000");
      }
      const from = options.from === undefined ? new Date() : new Date(options.from);
      if (Number.isNaN(from.getTime())) throw new Error(`--from ${options.from}: not a time`);
      const event = CalendarEvent.parse(text);
      process.stdout.write(`normalized: ${event.toString()}\n`);
      const times = event.upcoming(from, count, options.timeZone);
      if (times.length === 0) process.stdout.write("no further run\n");
      for (const time of times) process.stdout.write(`${localText(time, options.timeZone)}\n`);
    });
}
