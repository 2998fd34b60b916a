/**
 * The console's state and its one reducer: the dashboard with its menu, and the view each menu
 * entry opens. Keys are interpreted here against the current state (as in the wizard); work on
 * the machine is asked for with a `request` that the component carries out and answers.
 */
import type { PowerAction } from "../appliance/setup/console-actions.js";
import type { NetworkPlan } from "../appliance/setup/plan.js";
import type { PoolStatus } from "../appliance/system/zfs/zpool-status.js";
import { type KeyInfo, wizardReducer } from "./keys.js";
import { type State as FormState, networkOf, screenProblems } from "./state.js";

export const MENU = [
  { id: "network", label: "Change network" },
  { id: "password", label: "Reset admin password" },
  { id: "fingerprint", label: "Show certificate fingerprint" },
  { id: "pools", label: "Pool status" },
  { id: "reboot", label: "Reboot" },
  { id: "poweroff", label: "Shut down" },
] as const;

export type MenuId = (typeof MENU)[number]["id"];
export type View = "dashboard" | MenuId;

export type ConsoleRequest =
  | { kind: "form"; view: "network" | "password" }
  | { kind: "network"; network: NetworkPlan }
  | { kind: "password"; user: string; password: string }
  | { kind: "pools" }
  | { kind: "power"; action: PowerAction };

export interface ConsoleState {
  view: View;
  /** The focused menu entry. */
  menu: number;
  /** The network and password forms are the wizard's own, so fields and checks are shared. */
  form?: FormState;
  /** What the component should do next; `serial` tells one request from the next. */
  request?: ConsoleRequest;
  serial: number;
  busy: boolean;
  /** The outcome of the last action. */
  message?: { text: string; error: boolean };
  pools?: PoolStatus[];
  quit: boolean;
}

export type ConsoleAction =
  | { type: "key"; input: string; key: KeyInfo }
  | { type: "form-loaded"; form: FormState }
  | { type: "pools-loaded"; pools: PoolStatus[] }
  | { type: "finished"; text: string; error: boolean };

/** The rows of the password form: the admin screen's first three (no e-mail). */
export const PASSWORD_ROWS = 3;

export function initialConsoleState(): ConsoleState {
  return { view: "dashboard", menu: 0, serial: 0, busy: false, quit: false };
}

function ask(state: ConsoleState, request: ConsoleRequest, view = state.view): ConsoleState {
  return { ...state, view, request, serial: state.serial + 1, busy: true, message: undefined };
}

function open(state: ConsoleState, view: MenuId): ConsoleState {
  const opened = { ...state, view, form: undefined, pools: undefined, message: undefined };
  if (view === "network" || view === "password") return ask(opened, { kind: "form", view });
  if (view === "pools") return ask(opened, { kind: "pools" });
  return opened;
}

const close = (state: ConsoleState): ConsoleState => ({
  ...state,
  view: "dashboard",
  form: undefined,
  message: undefined,
});

function dashboardKey(state: ConsoleState, input: string, key: KeyInfo): ConsoleState {
  if (input === "q") return { ...state, quit: true };
  if (key.upArrow) return { ...state, menu: Math.max(0, state.menu - 1) };
  if (key.downArrow) return { ...state, menu: Math.min(MENU.length - 1, state.menu + 1) };
  if (key.return) return open(state, MENU[state.menu]!.id);
  const number = Number(input);
  if (Number.isInteger(number) && number >= 1 && number <= MENU.length) {
    return open({ ...state, menu: number - 1 }, MENU[number - 1]!.id);
  }
  return state;
}

/** Enter on a form: its problems keep it open, else the change is asked for. */
function submit(state: ConsoleState, form: FormState): ConsoleState {
  if (state.view === "network") {
    const problems = screenProblems(form, "network");
    if (problems.length > 0) return { ...state, form: { ...form, problems } };
    return ask(state, { kind: "network", network: networkOf(form.draft) });
  }
  const problems = screenProblems(form, "admin").filter((p) => p.field !== "admin.email");
  if (problems.length > 0) return { ...state, form: { ...form, problems } };
  const { user, password } = form.draft.admin;
  return ask(state, { kind: "password", user: user.trim(), password });
}

function formKey(state: ConsoleState, input: string, key: KeyInfo): ConsoleState {
  const form = state.form;
  if (key.escape) return close(state);
  if (!form) return state;
  if (key.return) return submit(state, form);
  let next = wizardReducer(form, { type: "key", input, key });
  if (state.view === "password" && (next.focus.admin ?? 0) >= PASSWORD_ROWS) {
    next = { ...next, focus: { ...next.focus, admin: PASSWORD_ROWS - 1 } };
  }
  return { ...state, form: next, message: undefined };
}

function viewKey(state: ConsoleState, input: string, key: KeyInfo): ConsoleState {
  switch (state.view) {
    case "dashboard":
      return dashboardKey(state, input, key);
    case "network":
    case "password":
      return formKey(state, input, key);
    case "pools":
      if (input === "r") return ask(state, { kind: "pools" });
      return key.escape || key.return || input === "q" ? close(state) : state;
    case "fingerprint":
      return key.escape || key.return || input === "q" ? close(state) : state;
    case "reboot":
    case "poweroff":
      // Only an explicit yes goes ahead; any other key is a no.
      return input === "y" ? ask(state, { kind: "power", action: state.view }) : close(state);
  }
}

export function consoleReducer(state: ConsoleState, action: ConsoleAction): ConsoleState {
  switch (action.type) {
    case "key":
      if (!state.busy) return viewKey(state, action.input, action.key);
      // Reading may be abandoned; a change to the machine, once asked for, is waited for.
      if (
        action.key.escape &&
        (state.request?.kind === "form" || state.request?.kind === "pools")
      ) {
        return { ...close(state), busy: false };
      }
      return state;
    case "form-loaded":
      if (state.view !== "network" && state.view !== "password") return { ...state, busy: false };
      return { ...state, busy: false, form: action.form };
    case "pools-loaded":
      return { ...state, busy: false, pools: action.pools };
    case "finished": {
      const message = { text: action.text, error: action.error };
      // A failure stays on its view to be corrected; a success goes back to the dashboard.
      if (action.error) return { ...state, busy: false, message };
      return { ...close(state), busy: false, message };
    }
  }
}
