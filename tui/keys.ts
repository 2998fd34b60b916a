/**
 * Keys as reducer actions: every keystroke is interpreted against the current state inside the
 * reducer, so fast typing or a paste never acts on a screen that has not been redrawn yet.
 */
import { choosableDisks, type FieldSpec, focusOf, rowsOf } from "./fields.js";
import { type Action, reducer, type State } from "./state.js";

/** The parts of Ink's key object the wizard reads. */
export interface KeyInfo {
  upArrow: boolean;
  downArrow: boolean;
  leftArrow: boolean;
  rightArrow: boolean;
  tab: boolean;
  shift: boolean;
  return: boolean;
  escape: boolean;
  backspace: boolean;
  delete: boolean;
  ctrl: boolean;
  meta: boolean;
}

export type WizardAction = Action | { type: "key"; input: string; key: KeyInfo };

export function fieldValue(state: State, field: FieldSpec): string {
  return (state.draft[field.section] as unknown as Record<string, string>)[field.key] ?? "";
}

function cycle(options: readonly string[], current: string, step: number): string {
  const index = options.indexOf(current);
  return options[(index + step + options.length) % options.length] ?? current;
}

/** Up/Down/Tab move, typing edits, Left/Right/Space change a choice, `?` toggles help. */
function formKey(state: State, input: string, key: KeyInfo): Action | undefined {
  const rows = rowsOf(state);
  const focus = focusOf(state, rows.length);
  if (key.upArrow || (key.tab && key.shift))
    return { type: "focus", index: Math.max(0, focus - 1) };
  if (key.downArrow || key.tab) {
    return { type: "focus", index: Math.min(rows.length - 1, focus + 1) };
  }
  if (key.return) return { type: "next" };
  const field = rows[focus];
  if (!field) {
    const disk = state.screen === "disks" ? choosableDisks(state)[focus] : undefined;
    return disk && input === " " ? { type: "toggle-disk", path: disk.path } : undefined;
  }
  if (input === "?" && field.kind !== "secret") return { type: "toggle-help" };
  const value = fieldValue(state, field);
  const edit = (next: string): Action => ({
    type: "edit",
    section: field.section,
    field: field.key,
    value: next,
  });
  if (field.kind === "choice") {
    const options = field.options ?? [];
    if (key.leftArrow) return edit(cycle(options, value, -1));
    if (key.rightArrow || input === " ") return edit(cycle(options, value, 1));
    return undefined;
  }
  if (key.backspace || key.delete) return edit(value.slice(0, -1));
  if (key.ctrl && input === "u") return edit("");
  if (key.ctrl || key.meta || key.leftArrow || key.rightArrow) return undefined;
  const printable = [...input].filter((char) => char >= " " && char !== "\u007f").join("");
  return printable === "" ? undefined : edit(value + printable);
}

function keyAction(state: State, input: string, key: KeyInfo): Action | undefined {
  if (key.escape) return { type: "back" };
  if (state.wipePrompt) return input === "y" ? { type: "confirm-wipe" } : { type: "back" };
  switch (state.screen) {
    case "welcome":
    case "summary":
      return key.return ? { type: "next" } : undefined;
    case "apply":
      if (input === "r") return { type: "retry" };
      if (input === "b") return { type: "back" };
      return undefined;
    case "done":
      return undefined;
    default:
      return formKey(state, input, key);
  }
}

export function wizardReducer(state: State, action: WizardAction): State {
  if (action.type !== "key") return reducer(state, action);
  const next = keyAction(state, action.input, action.key);
  return next ? reducer(state, next) : state;
}
