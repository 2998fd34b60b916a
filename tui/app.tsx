import { useApp, useInput } from "ink";
import { useEffect, useReducer } from "react";
import type { ApplyEvent, StepId } from "../appliance/setup/apply.js";
import type { SetupEnvironment } from "../appliance/setup/environment.js";
import type { SetupPlan } from "../appliance/setup/plan.js";
import { ASCII_GLYPHS, GlyphContext, type Glyphs } from "./glyphs.js";
import { wizardReducer } from "./keys.js";
import { Admin } from "./screens/admin.js";
import { Apply } from "./screens/apply.js";
import { Disks } from "./screens/disks.js";
import { Done } from "./screens/done.js";
import { Network } from "./screens/network.js";
import { Retention } from "./screens/retention.js";
import { Summary } from "./screens/summary.js";
import { Welcome } from "./screens/welcome.js";
import { initialState, type State } from "./state.js";

/** Runs a plan from a step; the bin binds this to the apply engine, tests to a fake. */
export type PlanRunner = (plan: SetupPlan, from: StepId | undefined) => AsyncIterable<ApplyEvent>;

export interface FirstbootProps {
  env: SetupEnvironment;
  run: PlanRunner;
  glyphs?: Glyphs;
  /** Fixed clock and zone for the retention preview (tests). */
  now?: number;
  timeZone?: string;
  /** Called with the plan once setup has finished (the bin logs it). */
  onFinished?: (state: State) => void;
  initial?: State;
}

/** The first-boot wizard: one reducer, one screen at a time, Esc goes back keeping entries. */
export function Firstboot(props: FirstbootProps) {
  const [state, dispatch] = useReducer(wizardReducer, props.initial ?? initialState(props.env));
  const { exit } = useApp();
  useInput((input, key) => {
    // Leaving is the one key that is not state: Ctrl-C (never while applying), Enter when done.
    if (key.ctrl && input === "c" && !state.apply.running) exit();
    else if (key.return && state.screen === "done") exit();
    else dispatch({ type: "key", input, key });
  });
  const { attempt, from } = state.apply;
  // biome-ignore lint/correctness/useExhaustiveDependencies: one run per attempt, nothing else
  useEffect(() => {
    if (attempt === 0 || !state.plan) return;
    const plan = state.plan;
    let stopped = false;
    (async () => {
      try {
        for await (const event of props.run(plan, from)) {
          if (stopped) return;
          dispatch({ type: "apply-event", event });
        }
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        dispatch({
          type: "apply-event",
          event: { type: "step-failed", step: from ?? "network", error, completed: [] },
        });
      }
    })();
    return () => {
      stopped = true;
    };
  }, [attempt]);
  const { onFinished } = props;
  useEffect(() => {
    if (state.screen === "done") onFinished?.(state);
  }, [state.screen, onFinished, state]);
  const screen = { state, dispatch };
  return (
    <GlyphContext.Provider value={props.glyphs ?? ASCII_GLYPHS}>
      {state.screen === "welcome" ? <Welcome {...screen} /> : null}
      {state.screen === "network" ? <Network {...screen} /> : null}
      {state.screen === "disks" ? <Disks {...screen} /> : null}
      {state.screen === "retention" ? (
        <Retention
          {...screen}
          {...(props.now ? { now: props.now } : {})}
          {...(props.timeZone ? { timeZone: props.timeZone } : {})}
        />
      ) : null}
      {state.screen === "admin" ? <Admin {...screen} /> : null}
      {state.screen === "summary" ? <Summary {...screen} /> : null}
      {state.screen === "apply" ? <Apply {...screen} /> : null}
      {state.screen === "done" ? <Done {...screen} /> : null}
    </GlyphContext.Provider>
  );
}
