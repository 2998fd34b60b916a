/** How a finished task ended, as PBS records and reports it. */
export type TaskState =
  | { kind: "ok" }
  | { kind: "warnings"; count: number }
  | { kind: "error"; message: string }
  /** The process running it went away before it could record an end. */
  | { kind: "unknown" };

/** PBS's `exitstatus` text: `OK`, `WARNINGS: n`, the error message, or `unknown`. */
export function exitStatus(state: TaskState): string {
  switch (state.kind) {
    case "ok":
      return "OK";
    case "warnings":
      return `WARNINGS: ${state.count}`;
    case "error":
      return state.message;
    case "unknown":
      return "unknown";
  }
}

/** Reads back what exitStatus wrote (an error message never starts with OK/WARNINGS/unknown). */
export function parseExitStatus(text: string): TaskState {
  if (text === "OK") return { kind: "ok" };
  if (text === "unknown") return { kind: "unknown" };
  const warnings = /^WARNINGS: ([0-9]+)$/.exec(text);
  if (warnings) return { kind: "warnings", count: Number(warnings[1]) };
  return { kind: "error", message: text.replace(/^ERROR: /, "") };
}

/** The status filter names of the task list API. */
export function stateFilterName(state: TaskState): "ok" | "warning" | "error" | "unknown" {
  return state.kind === "warnings" ? "warning" : state.kind;
}

/** An error message on one line, as the index files and log lines need it. */
export function oneLine(message: string): string {
  return message.replace(/[\r\n]+/g, " ").trim() || "unknown error";
}
