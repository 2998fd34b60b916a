import { createInterface } from "node:readline/promises";

/** How commands talk to a person, if there is one; tests pass a scripted stand-in. */
export interface Terminal {
  /** stdin and stderr are both terminals: questions may be asked. */
  readonly interactive: boolean;
  ask(question: string): Promise<string>;
  /** Asks without echoing the answer (passwords). */
  askHidden(question: string): Promise<string>;
  /** A line for the person (progress, warnings); never part of the command's output. */
  note(line: string): void;
  /** Replaces the status line in place (progress); a no-op without a terminal. */
  status(line: string): void;
}

/** The process's own terminal, on stdin and stderr. */
export function processTerminal(): Terminal {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  return {
    interactive,
    async ask(question) {
      const lines = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return (await lines.question(question)).trim();
      } finally {
        lines.close();
      }
    },
    askHidden: (question) => readHidden(question),
    note: (line) => process.stderr.write(`${line}\n`),
    status: (line) => {
      if (interactive) process.stderr.write(`\r\x1b[K${line}`);
    },
  };
}

function readHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let answer = "";
    const done = (error?: Error) => {
      input.setRawMode?.(false);
      input.pause();
      input.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (data: Buffer) => {
      for (const char of data.toString("utf8")) {
        if (char === "\r" || char === "\n") return done();
        if (char === "\u0003") return done(new Error("interrupted"));
        if (char === "\u007f") answer = answer.slice(0, -1);
        else answer += char;
      }
    };
    input.setRawMode?.(true);
    input.resume();
    input.on("data", onData);
  });
}

/** A terminal with nobody at it: questions are errors, notes go to stderr. */
export function silentTerminal(note: (line: string) => void = () => {}): Terminal {
  const refuse = () => Promise.reject(new Error("no terminal to ask on"));
  return { interactive: false, ask: refuse, askHidden: refuse, note, status: () => {} };
}
