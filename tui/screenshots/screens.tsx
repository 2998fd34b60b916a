/**
 * Every console screen rendered to text at 80 columns from the sample machine: what the README
 * shows and what the screenshot test keeps inside 80×24.
 */
import { renderToString } from "ink";
import type { ReactElement } from "react";
import { STEPS } from "../../appliance/setup/apply.js";
import { parseZpoolStatus } from "../../appliance/system/zfs/zpool-status.js";
import { initialConsoleState } from "../console-state.js";
import { WIDTH } from "../frame.js";
import { GlyphContext, UNICODE_GLYPHS } from "../glyphs.js";
import { Admin } from "../screens/admin.js";
import { Apply } from "../screens/apply.js";
import { Console } from "../screens/console.js";
import { Disks } from "../screens/disks.js";
import { Done } from "../screens/done.js";
import { Network } from "../screens/network.js";
import { Retention } from "../screens/retention.js";
import { Summary } from "../screens/summary.js";
import { Welcome } from "../screens/welcome.js";
import { initialState, planOf, type State } from "../state.js";
import { SAMPLE_ENVIRONMENT, SAMPLE_FINGERPRINT, SAMPLE_STATUS } from "./sample.js";

const NOW = 1_795_852_800;

function wizardState(): State {
  const state = initialState(SAMPLE_ENVIRONMENT);
  const draft = {
    ...state.draft,
    network: { ...state.draft.network, method: "static" as const },
    disks: { ...state.draft.disks, selected: ["/dev/sdb", "/dev/sdc"] },
    admin: { ...state.draft.admin, password: "correct-horse-42", confirm: "correct-horse-42" },
  };
  return { ...state, draft, plan: planOf(draft) };
}

function applying(state: State): State {
  const steps = { ...state.apply.steps };
  for (const [index, step] of STEPS.entries()) {
    steps[step.id] = index < 3 ? { status: "done", detail: "ok" } : { status: "pending" };
  }
  steps.datastore = { status: "running" };
  steps.network.detail = "eno1 192.0.2.10/24 via 192.0.2.1";
  steps.pool.detail = "mirror pool tank on 2 disk(s)";
  steps.dataset.detail = "tank/store1 at /mnt/datastore/tank/store1";
  return { ...state, apply: { ...state.apply, steps, running: true } };
}

function done(state: State): State {
  const result = {
    url: "https://192.0.2.10:8007",
    fingerprint: SAMPLE_FINGERPRINT,
    repository: "admin@pbs@192.0.2.10:8007:store1",
    datastorePath: "/mnt/datastore/tank/store1",
  };
  return { ...state, apply: { ...state.apply, running: false, result } };
}

const POOL_STATUS = `  pool: tank
 state: ONLINE
 scrub: scrub completed after 0h41m with 0 errors on Sun Nov 22 01:05:12 2026
config:

	NAME        STATE     READ WRITE CKSUM
	tank        ONLINE       0     0     0
	  mirror-0  ONLINE       0     0     0
	    sdb     ONLINE       0     0     0
	    sdc     ONLINE       0     0     0

errors: No known data errors
`;

function screens(): Record<string, ReactElement> {
  const state = wizardState();
  const props = (screen: State["screen"], focus = 0) => ({
    state: { ...state, screen, focus: { [screen]: focus } },
    dispatch: () => {},
  });
  const console = (view: ReturnType<typeof initialConsoleState>["view"], extra = {}) => (
    <Console
      load={async () => SAMPLE_STATUS}
      actions={undefined as never}
      status={SAMPLE_STATUS}
      glyphs={UNICODE_GLYPHS}
      initial={{ ...initialConsoleState(), view, ...extra }}
    />
  );
  return {
    "1-welcome": <Welcome {...props("welcome")} />,
    "2-network": <Network {...props("network", 2)} />,
    "3-disks": <Disks {...props("disks", 1)} />,
    "4-retention": <Retention {...props("retention", 2)} now={NOW} timeZone="UTC" />,
    "5-admin": <Admin {...props("admin", 1)} />,
    "6-summary": <Summary {...props("summary")} />,
    "7-apply": <Apply state={applying({ ...state, screen: "apply" })} dispatch={() => {}} />,
    "8-done": <Done state={done({ ...state, screen: "done" })} dispatch={() => {}} />,
    "console-dashboard": console("dashboard"),
    "console-fingerprint": console("fingerprint"),
    "console-pools": console("pools", { pools: parseZpoolStatus(POOL_STATUS) }),
    "console-reboot": console("reboot"),
    "console-password": console("password", {
      form: { ...initialState(SAMPLE_ENVIRONMENT), screen: "admin" },
    }),
  };
}

/** Each screen's name and its text, trailing spaces removed. */
export function renderScreens(): { name: string; text: string }[] {
  return Object.entries(screens()).map(([name, element]) => ({
    name,
    text: `${renderToString(
      <GlyphContext.Provider value={UNICODE_GLYPHS}>{element}</GlyphContext.Provider>,
      { columns: WIDTH },
    )
      .split("\n")
      .map((line) => line.trimEnd())
      .join("\n")}\n`,
  }));
}
