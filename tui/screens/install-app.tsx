import { useApp, useInput } from "ink";
import { useEffect, useReducer } from "react";
import type { InstallEvent } from "../../appliance/setup/install/install-engine.js";
import type { InstallFacts, InstallPlan } from "../../appliance/setup/install/install-plan.js";
import type { DiskInfo } from "../../appliance/system/disks/disks.js";
import type { LiveInterface } from "../../appliance/system/network/ip-json.js";
import { ASCII_GLYPHS, GlyphContext, type Glyphs } from "../glyphs.js";
import { type InstallState, initialInstallState, installReducer } from "../install-state.js";
import { InstallForm } from "./install-form.js";
import { InstallProgress, InstallSummary } from "./install-progress.js";

export interface InstallerProps {
  disks: DiskInfo[];
  interfaces: LiveInterface[];
  facts: InstallFacts;
  /** Runs the plan; the bin binds this to the install engine, tests to a fake. */
  run: (plan: InstallPlan) => AsyncIterable<InstallEvent>;
  /** Called on Enter once installed; without it Enter just leaves. */
  onReboot?: () => Promise<void>;
  glyphs?: Glyphs;
  initial?: InstallState;
}

/** `cairn-setup install`: one reducer, one screen at a time, Esc goes back keeping entries. */
export function Installer(props: InstallerProps) {
  const [state, dispatch] = useReducer(
    installReducer,
    props.initial ??
      initialInstallState(
        props.disks,
        props.interfaces.map((iface) => iface.name),
        props.facts,
      ),
  );
  const { exit } = useApp();
  useInput((input, key) => {
    if (key.ctrl && input === "c" && !state.running) exit();
    else if (key.return && state.screen === "done") {
      void (props.onReboot?.() ?? Promise.resolve()).finally(() => exit());
    } else dispatch({ type: "key", input, key });
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: one run each time progress starts
  useEffect(() => {
    if (!state.running || !state.plan) return;
    const plan = state.plan;
    let stopped = false;
    (async () => {
      try {
        for await (const event of props.run(plan)) {
          if (stopped) return;
          dispatch({ type: "install-event", event });
        }
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        dispatch({
          type: "install-event",
          event: { type: "step-failed", step: "partition", error },
        });
      }
    })();
    return () => {
      stopped = true;
    };
  }, [state.running]);
  const screen =
    state.screen === "summary" ? (
      <InstallSummary state={state} />
    ) : state.screen === "progress" || state.screen === "done" ? (
      <InstallProgress state={state} />
    ) : (
      <InstallForm state={state} />
    );
  return (
    <GlyphContext.Provider value={props.glyphs ?? ASCII_GLYPHS}>{screen}</GlyphContext.Provider>
  );
}
