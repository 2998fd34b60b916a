import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { spawn } from "node-pty";
import { REPO_ROOT } from "../helpers/cli.js";

/** The compiled console, as the appliance runs it (`npm run build` makes it; `npm test` does). */
export const CAIRN_SETUP = join(REPO_ROOT, "dist", "tui", "cairn-setup.js");

const ANSI = /\u001B\[[0-9;?]*[A-Za-z]|\u001B[()][A-Z0-9]|\u001B[=>]/g;

export interface PtySession {
  /** Everything drawn since the last `mark`, escape sequences removed. */
  readonly text: string;
  mark(): void;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  keys(...sequence: string[]): Promise<void>;
  exited(): Promise<number | undefined>;
  kill(): void;
}

/**
 * `cairn-setup ARGS` in a real 80×24 pseudo-terminal. CI is cleared because Ink draws nothing
 * live when it is set; `env` adds to the environment (a PATH with stand-ins, for example).
 */
export function startSetup(args: string[], env: NodeJS.ProcessEnv = {}): PtySession {
  if (!existsSync(CAIRN_SETUP)) throw new Error(`${CAIRN_SETUP} is missing: run npm run build`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm", LANG: "C.UTF-8", ...env };
  delete childEnv.CI;
  const child = spawn(process.execPath, [CAIRN_SETUP, ...args], {
    cols: 80,
    rows: 24,
    env: childEnv,
    cwd: REPO_ROOT,
  });
  let screen = "";
  let exit: number | undefined;
  let typed = false;
  let lastOutput = Date.now();
  child.onData((data) => {
    screen += data.replace(ANSI, "");
    lastOutput = Date.now();
  });
  child.onExit(({ exitCode }) => {
    exit = exitCode;
  });
  return {
    get text() {
      return screen;
    },
    mark() {
      screen = "";
    },
    async waitFor(pattern, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (!pattern.test(screen)) {
        if (Date.now() > end || exit !== undefined) {
          throw new Error(`waited for ${pattern} (exit ${exit}); screen: ${screen.slice(-3000)}`);
        }
        await delay(50);
      }
    },
    /** One key per terminal read: keys written together arrive as one chunk, read as a paste. */
    async keys(...sequence) {
      // Ink switches the terminal to raw mode just after its first frame; earlier keys are echoed.
      if (!typed) await delay(500);
      typed = true;
      for (const key of sequence) {
        child.write(key);
        await delay(150);
        // Let the redraw this key causes finish before the next key (a busy machine lags).
        for (let i = 0; i < 30 && Date.now() - lastOutput < 120; i++) await delay(50);
      }
    },
    async exited() {
      for (let i = 0; i < 1800 && exit === undefined; i++) await delay(50);
      return exit;
    },
    kill() {
      if (exit === undefined) child.kill();
    },
  };
}

/** The last complete frame whose title line matches `title` (frames are redrawn whole). */
export function lastFrame(text: string, title: RegExp): string {
  const starts = [...text.matchAll(/Cairn setup: /g)].map((match) => match.index);
  for (let i = starts.length - 1; i >= 0; i--) {
    const frame = text.slice(starts[i], starts[i + 1]);
    if (title.test(frame.split("\n")[0] ?? "")) return frame;
  }
  return "";
}
