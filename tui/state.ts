/**
 * The first-boot wizard's whole state and its one reducer. Screens hold no state of their own
 * beyond animation, so each can be rendered alone and going back never loses an entry.
 */
import type { ApplyEvent, SetupResult, StepId } from "../appliance/setup/apply.js";
import { STEPS } from "../appliance/setup/apply.js";
import {
  defaultCompression,
  factsOf,
  type SetupEnvironment,
} from "../appliance/setup/environment.js";
import { SetupError } from "../appliance/setup/errors.js";
import {
  adminProblems,
  confirmProblem,
  DEFAULT_ADMIN_USER,
  DEFAULT_RETENTION,
  diskProblems,
  networkProblems,
  type Problem,
  RETENTION_KEYS,
  type RetentionPlan,
  retentionProblems,
  type SetupPlan,
  validatePlan,
} from "../appliance/setup/plan.js";
import type { RaidLevel } from "../appliance/system/zfs/raid-layout.js";

export const SCREENS = [
  "welcome",
  "network",
  "disks",
  "retention",
  "admin",
  "summary",
  "apply",
  "done",
] as const;
export type Screen = (typeof SCREENS)[number];

export const SCHEDULE_KEYS = ["gc-schedule", "prune-schedule", "verify-schedule"] as const;
export type RetentionField = (typeof RETENTION_KEYS)[number] | (typeof SCHEDULE_KEYS)[number];

/** What the operator typed, as text; converted to a plan only when a screen is left. */
export interface Draft {
  network: {
    interface: string;
    method: "dhcp" | "static";
    address: string;
    gateway: string;
    dns: string;
    fqdn: string;
  };
  disks: {
    selected: string[];
    raidlevel: RaidLevel;
    ashift: string;
    compression: string;
    pool: string;
    datastore: string;
    /** Devices the operator agreed to wipe (cleared whenever the selection changes). */
    wipe: string[];
  };
  retention: Record<RetentionField, string>;
  admin: { user: string; password: string; confirm: string; email: string };
}

export type Section = keyof Draft;

export type StepStatus = "pending" | "running" | "done" | "failed";

export interface ApplyState {
  steps: Record<StepId, { status: StepStatus; detail?: string }>;
  failed?: { step: StepId; message: string };
  running: boolean;
  result?: SetupResult;
  /** Bumped to ask the app to (re)start applying from `from`. */
  attempt: number;
  from?: StepId;
}

export interface State {
  env: SetupEnvironment;
  screen: Screen;
  draft: Draft;
  /** The focused row of each screen, kept when going back and forth. */
  focus: Partial<Record<Screen, number>>;
  /** Problems found when the operator last tried to leave the current screen. */
  problems: Problem[];
  /** Disks holding data that wait for the operator's wipe confirmation. */
  wipePrompt?: string[];
  help: boolean;
  apply: ApplyState;
  /** The plan the summary shows and apply runs. */
  plan?: SetupPlan;
}

export type Action =
  | { type: "next" }
  | { type: "back" }
  | { type: "edit"; section: Section; field: string; value: string }
  | { type: "focus"; index: number }
  | { type: "toggle-disk"; path: string }
  | { type: "confirm-wipe" }
  | { type: "toggle-help" }
  | { type: "apply-event"; event: ApplyEvent }
  | { type: "retry" }
  | { type: "goto"; screen: Screen };

function initialSteps(): ApplyState["steps"] {
  return Object.fromEntries(
    STEPS.map((step) => [step.id, { status: "pending" }]),
  ) as ApplyState["steps"];
}

export function initialState(env: SetupEnvironment): State {
  const retention = Object.fromEntries(
    Object.entries(DEFAULT_RETENTION).map(([key, value]) => [key, String(value)]),
  ) as Record<RetentionField, string>;
  return {
    env,
    screen: "welcome",
    draft: {
      network: {
        interface: env.network.interface,
        method: env.network.method,
        address: env.network.address ?? "",
        gateway: env.network.gateway ?? "",
        dns: env.network.dns.join(", "),
        fqdn: env.network.fqdn,
      },
      disks: {
        selected: [],
        raidlevel: "mirror",
        ashift: "12",
        compression: defaultCompression(env),
        pool: "tank",
        datastore: "store1",
        wipe: [],
      },
      retention,
      admin: { user: DEFAULT_ADMIN_USER, password: "", confirm: "", email: "" },
    },
    focus: {},
    problems: [],
    help: false,
    apply: { steps: initialSteps(), running: false, attempt: 0 },
  };
}

// ---- draft → plan sections ----

const whole = (text: string): number => (/^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN);

export function networkOf(draft: Draft): SetupPlan["network"] {
  const n = draft.network;
  const dns = n.dns.split(/[\s,]+/).filter((server) => server !== "");
  return n.method === "static"
    ? {
        interface: n.interface,
        method: "static",
        address: n.address.trim(),
        gateway: n.gateway.trim(),
        dns,
        fqdn: n.fqdn.trim(),
      }
    : { interface: n.interface, method: "dhcp", dns, fqdn: n.fqdn.trim() };
}

export function disksOf(draft: Draft): SetupPlan["disks"] {
  const d = draft.disks;
  return {
    devices: [...d.selected],
    raidlevel: d.raidlevel,
    ashift: whole(d.ashift),
    compression: d.compression.trim(),
    pool: d.pool.trim(),
    datastore: d.datastore.trim(),
    wipe: d.wipe.filter((device) => d.selected.includes(device)),
  };
}

export function retentionOf(draft: Pick<Draft, "retention">): RetentionPlan {
  const r = draft.retention;
  const plan = { ...DEFAULT_RETENTION };
  for (const key of RETENTION_KEYS) plan[key] = whole(r[key]);
  for (const key of SCHEDULE_KEYS) plan[key] = r[key].trim();
  return plan;
}

export function adminOf(draft: Draft): SetupPlan["admin"] {
  const a = draft.admin;
  return {
    user: a.user.trim(),
    password: a.password,
    ...(a.email.trim() ? { email: a.email.trim() } : {}),
  };
}

export function planOf(draft: Draft): SetupPlan {
  return {
    network: networkOf(draft),
    disks: disksOf(draft),
    retention: retentionOf(draft),
    admin: adminOf(draft),
  };
}

/** The problems that keep the operator on a screen. */
export function screenProblems(state: State, screen: Screen = state.screen): Problem[] {
  const facts = factsOf(state.env);
  switch (screen) {
    case "network":
      return networkProblems(networkOf(state.draft), facts);
    case "disks":
      return diskProblems(disksOf(state.draft), facts);
    case "retention":
      return retentionProblems(retentionOf(state.draft));
    case "admin": {
      const confirm = confirmProblem(state.draft.admin.password, state.draft.admin.confirm);
      return [...adminProblems(adminOf(state.draft)), ...(confirm ? [confirm] : [])];
    }
    default:
      return [];
  }
}

/** Selected disks that hold data: the wipe confirmation must name these. */
export function disksToWipe(state: State): string[] {
  return state.draft.disks.selected.filter((path) => {
    const disk = state.env.disks.find((candidate) => candidate.path === path);
    return disk !== undefined && disk.used !== "unused" && !disk.systemDisk;
  });
}

function move(state: State, screen: Screen): State {
  return { ...state, screen, problems: [], wipePrompt: undefined, help: false };
}

function nextScreen(state: State): State {
  const index = SCREENS.indexOf(state.screen);
  const following = SCREENS[index + 1];
  if (following === undefined) return state;
  const problems = screenProblems(state);
  // A disk holding data is the one problem the operator resolves by confirming, not by editing.
  const blocking = problems.filter((problem) => problem.field !== "disks.wipe");
  if (blocking.length > 0) return { ...state, problems: blocking, wipePrompt: undefined };
  if (state.screen === "disks") {
    const toWipe = disksToWipe(state);
    const unconfirmed = toWipe.filter((path) => !state.draft.disks.wipe.includes(path));
    if (unconfirmed.length > 0) return { ...state, problems: [], wipePrompt: toWipe };
  }
  if (state.screen === "admin") {
    try {
      const plan = validatePlan(planOf(state.draft), factsOf(state.env));
      return { ...move(state, following), plan };
    } catch (err) {
      // A section changed after it was checked (Esc skips checks): show what is wrong.
      const context = err instanceof SetupError ? err.context : {};
      return { ...state, problems: (context.problems as Problem[] | undefined) ?? [] };
    }
  }
  if (state.screen === "summary") {
    return {
      ...move(state, following),
      apply: { steps: initialSteps(), running: true, attempt: state.apply.attempt + 1 },
    };
  }
  return move(state, following);
}

function backScreen(state: State): State {
  if (state.wipePrompt) return { ...state, wipePrompt: undefined };
  if (state.help) return { ...state, help: false };
  if (state.screen === "apply" && state.apply.running) return state;
  if (state.screen === "done" || state.screen === "welcome") return state;
  if (state.screen === "apply") return move(state, "summary");
  return move(state, SCREENS[SCREENS.indexOf(state.screen) - 1]!);
}

function applyEvent(apply: ApplyState, event: ApplyEvent): ApplyState {
  const steps = { ...apply.steps };
  switch (event.type) {
    case "step-start":
      steps[event.step] = { status: "running" };
      return { ...apply, steps };
    case "step-done":
      steps[event.step] = { status: "done", detail: event.detail };
      return { ...apply, steps };
    case "step-failed":
      steps[event.step] = { status: "failed" };
      return {
        ...apply,
        steps,
        running: false,
        failed: { step: event.step, message: event.error.message },
      };
    case "finished":
      return { ...apply, running: false, result: event.result };
  }
}

export function reducer(state: State, action: Action): State {
  switch (action.type) {
    case "next":
      return nextScreen(state);
    case "back":
      return backScreen(state);
    case "goto":
      return move(state, action.screen);
    case "focus":
      return { ...state, focus: { ...state.focus, [state.screen]: action.index } };
    case "toggle-help":
      return { ...state, help: !state.help };
    case "edit": {
      const section = { ...state.draft[action.section], [action.field]: action.value };
      return {
        ...state,
        draft: { ...state.draft, [action.section]: section } as Draft,
        problems: [],
      };
    }
    case "toggle-disk": {
      const disk = state.env.disks.find((candidate) => candidate.path === action.path);
      if (!disk || disk.systemDisk) return state;
      const { selected } = state.draft.disks;
      const next = selected.includes(action.path)
        ? selected.filter((path) => path !== action.path)
        : [...selected, action.path];
      // A confirmation covers the selection it was given for, never a later one.
      const disks = { ...state.draft.disks, selected: next, wipe: [] };
      return { ...state, draft: { ...state.draft, disks }, problems: [], wipePrompt: undefined };
    }
    case "confirm-wipe": {
      if (!state.wipePrompt) return state;
      const disks = { ...state.draft.disks, wipe: [...state.wipePrompt] };
      return nextScreen({ ...state, draft: { ...state.draft, disks }, wipePrompt: undefined });
    }
    case "apply-event": {
      const apply = applyEvent(state.apply, action.event);
      if (action.event.type === "finished") return { ...move(state, "done"), apply };
      return { ...state, apply };
    }
    case "retry": {
      if (state.apply.running || !state.apply.failed) return state;
      const from = state.apply.failed.step;
      const steps = { ...state.apply.steps, [from]: { status: "pending" as const } };
      return { ...state, apply: { steps, running: true, attempt: state.apply.attempt + 1, from } };
    }
  }
}

/** The problem shown beside a field, if any. */
export function problemFor(state: State, field: string): string | undefined {
  return state.problems.find((problem) => problem.field === field)?.message;
}
