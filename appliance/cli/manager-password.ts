import { text } from "node:stream/consumers";
import { CairnError } from "../errors.js";

/** Lets scripts set a password without putting it on the command line (visible in `ps`). */
export const NEW_PASSWORD_ENV = "CAIRN_NEW_PASSWORD";

function passwordError(message: string): CairnError {
  return new CairnError("CAIRN_E_PASSWORD_INPUT", message);
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let typed = "";
    const finish = (error?: CairnError) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\u0003" || char === "\u0004") return finish(passwordError("cancelled"));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    input.on("data", onData);
  });
}

/**
 * A new password: the one given on the command line, else $CAIRN_NEW_PASSWORD, else asked twice
 * on the terminal, else the first line of standard input.
 */
export async function readNewPassword(given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const fromEnv = process.env[NEW_PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (process.stdin.isTTY) {
    const first = await promptHidden("New password: ");
    const second = await promptHidden("Repeat password: ");
    if (first !== second) throw passwordError("the passwords differ");
    return first;
  }
  const line = (await text(process.stdin)).split(/\r?\n/, 1)[0] ?? "";
  if (line === "") {
    throw passwordError(
      `no password: pass --password, set ${NEW_PASSWORD_ENV}, or write it to standard input`,
    );
  }
  return line;
}
