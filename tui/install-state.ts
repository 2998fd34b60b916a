/**
 * The installer's whole state and its one reducer, keys included (as tui/keys.ts does for first
 * boot): each screen is checked with the install plan's own rules before it may be left.
 */
import type { InstallEvent, InstallStepId } from "../appliance/setup/install/install-engine.js";
import { INSTALL_STEPS } from "../appliance/setup/install/install-engine.js";
import {
  FILESYSTEMS,
  type InstallFacts,
  type InstallPlan,
  installProblems,
  KEYMAPS,
  type RootFilesystem,
  systemDiskProblem,
  validateInstallPlan,
} from "../appliance/setup/install/install-plan.js";
import { networkProblems, type Problem } from "../appliance/setup/plan.js";
import type { DiskInfo } from "../appliance/system/disks/disks.js";
import type { KeyInfo } from "./keys.js";

export const INSTALL_SCREENS = [
  "disk",
  "locale",
  "root",
  "network",
  "summary",
  "progress",
  "done",
] as const;
export type InstallScreen = (typeof INSTALL_SCREENS)[number];

export interface InstallDraft {
  disk: string;
  filesystem: RootFilesystem;
  timezone: string;
  keymap: string;
  password: string;
  confirm: string;
  email: string;
  interface: string;
  method: "dhcp" | "static";
  address: string;
  gateway: string;
  dns: string;
  fqdn: string;
}

export type DraftKey = keyof InstallDraft;

export interface InstallField {
  key: DraftKey;
  label: string;
  kind: "text" | "secret" | "choice";
  options?: readonly string[];
  /** The plan field its problems are reported under. */
  field: string;
}

/** The form rows of each form screen; the disk screen's table rows come before its fields. */
export const INSTALL_FIELDS: Partial<Record<InstallScreen, InstallField[]>> = {
  disk: [
    {
      key: "filesystem",
      label: "File system",
      kind: "choice",
      options: FILESYSTEMS,
      field: "install.filesystem",
    },
  ],
  locale: [
    { key: "timezone", label: "Time zone", kind: "text", field: "install.timezone" },
    { key: "keymap", label: "Keyboard", kind: "choice", options: KEYMAPS, field: "install.keymap" },
  ],
  root: [
    { key: "password", label: "Root password", kind: "secret", field: "install.root-password" },
    { key: "confirm", label: "Repeat it", kind: "secret", field: "install.confirm" },
    { key: "email", label: "E-mail", kind: "text", field: "install.email" },
  ],
  network: [
    { key: "interface", label: "Interface", kind: "choice", field: "network.interface" },
    {
      key: "method",
      label: "Method",
      kind: "choice",
      options: ["dhcp", "static"],
      field: "network.method",
    },
    { key: "address", label: "Address/CIDR", kind: "text", field: "network.address" },
    { key: "gateway", label: "Gateway", kind: "text", field: "network.gateway" },
    { key: "dns", label: "DNS servers", kind: "text", field: "network.dns" },
    { key: "fqdn", label: "Hostname", kind: "text", field: "network.fqdn" },
  ],
};

export type StepStatus = "pending" | "running" | "done" | "skipped" | "failed";

export interface InstallState {
  screen: InstallScreen;
  disks: DiskInfo[];
  interfaces: string[];
  facts: InstallFacts;
  draft: InstallDraft;
  focus: number;
  problems: Problem[];
  plan?: InstallPlan;
  steps: Record<InstallStepId, { status: StepStatus; detail?: string }>;
  running: boolean;
  failed?: { step: InstallStepId; message: string };
}

export type InstallAction =
  | { type: "key"; input: string; key: KeyInfo }
  | { type: "install-event"; event: InstallEvent };

function pendingSteps(): InstallState["steps"] {
  return Object.fromEntries(
    INSTALL_STEPS.map((step) => [step.id, { status: "pending" }]),
  ) as InstallState["steps"];
}

export function initialInstallState(
  disks: DiskInfo[],
  interfaces: string[],
  facts: InstallFacts,
  network: Partial<InstallDraft> = {},
): InstallState {
  return {
    screen: "disk",
    disks,
    interfaces,
    facts,
    draft: {
      disk: "",
      filesystem: "ext4",
      timezone: "UTC",
      keymap: "us",
      password: "",
      confirm: "",
      email: "",
      interface: interfaces[0] ?? "",
      method: "dhcp",
      address: "",
      gateway: "",
      dns: "",
      fqdn: "cairn.localdomain",
      ...network,
    },
    focus: 0,
    problems: [],
    steps: pendingSteps(),
    running: false,
  };
}

/** Disks the operator may pick: never the one the live system runs from. */
export function choosableDisks(state: InstallState): DiskInfo[] {
  return state.disks.filter((disk) => !disk.systemDisk);
}

export function fieldsOf(state: InstallState): InstallField[] {
  const fields = INSTALL_FIELDS[state.screen] ?? [];
  return fields.map((field) =>
    field.key === "interface" ? { ...field, options: state.interfaces } : field,
  );
}

function rowCount(state: InstallState): number {
  const table = state.screen === "disk" ? choosableDisks(state).length : 0;
  return table + fieldsOf(state).length;
}

export function planOfDraft(draft: InstallDraft): InstallPlan {
  const dns = draft.dns.split(/[\s,]+/).filter((server) => server !== "");
  const fqdn = draft.fqdn.trim();
  return {
    disk: draft.disk,
    filesystem: draft.filesystem,
    timezone: draft.timezone.trim(),
    keymap: draft.keymap,
    rootPassword: draft.password,
    email: draft.email.trim(),
    network:
      draft.method === "static"
        ? {
            interface: draft.interface,
            method: "static",
            address: draft.address.trim(),
            gateway: draft.gateway.trim(),
            dns,
            fqdn,
          }
        : { interface: draft.interface, method: "dhcp", dns, fqdn },
  };
}

/** The problems that keep the operator on the current screen. */
export function installScreenProblems(state: InstallState): Problem[] {
  const plan = planOfDraft(state.draft);
  const all = installProblems(plan, state.facts);
  const only = (prefix: string[]) => all.filter((problem) => prefix.includes(problem.field));
  switch (state.screen) {
    case "disk": {
      const disk = systemDiskProblem(plan.disk, state.facts);
      return [
        ...(disk ? [{ field: "install.disk", message: disk }] : []),
        ...only(["install.filesystem"]),
      ];
    }
    case "locale":
      return only(["install.timezone", "install.keymap"]);
    case "root": {
      const mismatch =
        state.draft.password === state.draft.confirm
          ? []
          : [{ field: "install.confirm", message: "the two passwords differ" }];
      return [...only(["install.root-password", "install.email"]), ...mismatch];
    }
    case "network":
      return networkProblems(plan.network, state.facts);
    default:
      return [];
  }
}

function moveTo(state: InstallState, screen: InstallScreen): InstallState {
  return { ...state, screen, focus: 0, problems: [] };
}

function next(state: InstallState): InstallState {
  const problems = installScreenProblems(state);
  if (problems.length > 0) return { ...state, problems };
  if (state.screen === "network") {
    const plan = validateInstallPlan(planOfDraft(state.draft), state.facts);
    return { ...moveTo(state, "summary"), plan };
  }
  if (state.screen === "summary") {
    return { ...moveTo(state, "progress"), steps: pendingSteps(), running: true };
  }
  const index = INSTALL_SCREENS.indexOf(state.screen);
  return moveTo(state, INSTALL_SCREENS[index + 1] ?? state.screen);
}

function back(state: InstallState): InstallState {
  if (state.running || state.screen === "disk" || state.screen === "done") return state;
  if (state.screen === "progress") return moveTo(state, "summary");
  return moveTo(state, INSTALL_SCREENS[INSTALL_SCREENS.indexOf(state.screen) - 1]!);
}

function cycle(options: readonly string[], current: string, step: number): string {
  const index = options.indexOf(current);
  return options[(index + step + options.length) % options.length] ?? current;
}

function edit(state: InstallState, key: DraftKey, value: string): InstallState {
  return { ...state, draft: { ...state.draft, [key]: value }, problems: [] };
}

function formKey(state: InstallState, input: string, key: KeyInfo): InstallState {
  const rows = rowCount(state);
  if (key.upArrow) return { ...state, focus: Math.max(0, state.focus - 1) };
  if (key.downArrow || key.tab) return { ...state, focus: Math.min(rows - 1, state.focus + 1) };
  if (key.return) return next(state);
  const table = state.screen === "disk" ? choosableDisks(state) : [];
  const disk = table[state.focus];
  if (disk) return input === " " ? edit(state, "disk", disk.path) : state;
  const field = fieldsOf(state)[state.focus - table.length];
  if (!field) return state;
  const value = state.draft[field.key];
  if (field.kind === "choice") {
    const options = field.options ?? [];
    if (key.leftArrow) return edit(state, field.key, cycle(options, value, -1));
    if (key.rightArrow || input === " ") return edit(state, field.key, cycle(options, value, 1));
    return state;
  }
  if (key.backspace || key.delete) return edit(state, field.key, value.slice(0, -1));
  if (key.ctrl && input === "u") return edit(state, field.key, "");
  if (key.ctrl || key.meta || key.leftArrow || key.rightArrow) return state;
  const printable = [...input].filter((char) => char >= " " && char !== "\u007f").join("");
  return printable === "" ? state : edit(state, field.key, value + printable);
}

function installEvent(state: InstallState, event: InstallEvent): InstallState {
  const steps = { ...state.steps };
  switch (event.type) {
    case "step-start":
      steps[event.step] = { status: "running" };
      return { ...state, steps };
    case "step-done":
      steps[event.step] = { status: "done", detail: event.detail };
      return { ...state, steps };
    case "step-skipped":
      steps[event.step] = { status: "skipped" };
      return { ...state, steps };
    case "step-failed":
      steps[event.step] = { status: "failed" };
      return {
        ...state,
        steps,
        running: false,
        failed: { step: event.step, message: event.error.message },
      };
    case "finished":
      return { ...moveTo(state, "done"), steps, running: false };
  }
}

export function installReducer(state: InstallState, action: InstallAction): InstallState {
  if (action.type === "install-event") return installEvent(state, action.event);
  const { input, key } = action;
  if (key.escape) return back(state);
  switch (state.screen) {
    case "summary":
      return key.return ? next(state) : state;
    case "progress":
      return input === "b" ? back(state) : state;
    case "done":
      return state;
    default:
      return formKey(state, input, key);
  }
}
