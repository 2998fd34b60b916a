import { Text, useApp, useInput } from "ink";
import { useEffect, useReducer, useState } from "react";
import { formatBytes } from "../../appliance/setup/capacity.js";
import type { ConsoleActions } from "../../appliance/setup/console-actions.js";
import type { ConsoleStatus } from "../../appliance/setup/console-status.js";
import type { TaskSeen } from "../../appliance/setup/task-summary.js";
import {
  type ConsoleAction,
  type ConsoleRequest,
  type ConsoleState,
  consoleReducer,
  initialConsoleState,
  MENU,
} from "../console-state.js";
import { Frame } from "../frame.js";
import { ASCII_GLYPHS, GlyphContext, type Glyphs, useGlyphs } from "../glyphs.js";
import { initialState } from "../state.js";
import {
  ConsoleFingerprint,
  ConsolePassword,
  ConsolePools,
  ConsolePower,
} from "./console-views.js";
import { fingerprintLines } from "./done.js";
import { Network } from "./network.js";

export interface ConsoleProps {
  load: () => Promise<ConsoleStatus>;
  actions: ConsoleActions;
  refreshMs?: number;
  glyphs?: Glyphs;
  /** Fixed state to start from (screenshots, tests). */
  initial?: ConsoleState;
  /** Shown instead of loading (screenshots). */
  status?: ConsoleStatus;
}

const POWER_DONE = { reboot: "reboot requested", poweroff: "shutdown requested" };

/** Carries out one request of the reducer against the machine; answers the resulting action. */
async function carryOut(actions: ConsoleActions, request: ConsoleRequest): Promise<ConsoleAction> {
  switch (request.kind) {
    case "form": {
      const form = initialState(await actions.environment());
      return {
        type: "form-loaded",
        form: { ...form, screen: request.view === "network" ? "network" : "admin" },
      };
    }
    case "network":
      return {
        type: "finished",
        text: `network applied: ${await actions.changeNetwork(request.network)}`,
        error: false,
      };
    case "password":
      await actions.resetPassword(request.user, request.password);
      return { type: "finished", text: `password of ${request.user} changed`, error: false };
    case "pools":
      return { type: "pools-loaded", pools: await actions.poolStatus() };
    case "power":
      await actions.power(request.action);
      return { type: "finished", text: POWER_DONE[request.action], error: false };
  }
}

function useStatus(props: ConsoleProps) {
  const [status, setStatus] = useState<ConsoleStatus | undefined>(props.status);
  const [error, setError] = useState<string | undefined>();
  const { load, refreshMs = 5000 } = props;
  const fixed = props.status !== undefined;
  useEffect(() => {
    if (fixed) return;
    let live = true;
    const refresh = () =>
      load()
        .then((next) => live && setStatus(next))
        .catch((err: unknown) => live && setError(String(err)));
    void refresh();
    const timer = setInterval(refresh, refreshMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [load, refreshMs, fixed]);
  return { status, error };
}

/** The console on tty1 after setup: a dashboard refreshed by itself, and a menu of actions. */
export function Console(props: ConsoleProps) {
  const { exit } = useApp();
  const [state, dispatch] = useReducer(consoleReducer, props.initial ?? initialConsoleState());
  const { status, error } = useStatus(props);
  useInput((input, key) => dispatch({ type: "key", input, key }));
  useEffect(() => {
    if (state.quit) exit();
  }, [state.quit, exit]);
  const { actions } = props;
  // biome-ignore lint/correctness/useExhaustiveDependencies: one run per request, nothing else
  useEffect(() => {
    const request = state.request;
    if (!request) return;
    let live = true;
    carryOut(actions, request)
      .then((action) => live && dispatch(action))
      .catch((err: unknown) => {
        const text = err instanceof Error ? err.message : String(err);
        if (live) dispatch({ type: "finished", text, error: true });
      });
    return () => {
      live = false;
    };
  }, [state.serial]);
  return (
    <GlyphContext.Provider value={props.glyphs ?? ASCII_GLYPHS}>
      <ConsoleView state={state} status={status} error={error} />
    </GlyphContext.Provider>
  );
}

function ConsoleView(props: { state: ConsoleState; status?: ConsoleStatus; error?: string }) {
  const { state, status } = props;
  switch (state.view) {
    case "dashboard":
      return <Dashboard {...props} />;
    case "network":
      return state.form ? (
        <Network
          state={state.form}
          dispatch={() => {}}
          step="console"
          keys="Up/Down move  Left/Right change  Enter apply  Esc cancel  ? help"
        />
      ) : (
        <Loading title="Change network" state={state} />
      );
    case "password":
      return state.form ? (
        <ConsolePassword state={state} />
      ) : (
        <Loading title="Reset admin password" state={state} />
      );
    case "fingerprint":
      return <ConsoleFingerprint status={status} />;
    case "pools":
      return <ConsolePools state={state} />;
    case "reboot":
    case "poweroff":
      return <ConsolePower state={state} />;
  }
}

function Loading(props: { title: string; state: ConsoleState }) {
  const { message } = props.state;
  return (
    <Frame title={props.title} keys="Esc back">
      {message ? <Text color="red">{message.text}</Text> : <Text>reading the machine...</Text>}
    </Frame>
  );
}

function Row(props: { label: string; children: React.ReactNode }) {
  return (
    <Text>
      {props.label.padEnd(15)}
      {props.children}
    </Text>
  );
}

function when(task: TaskSeen | undefined): string {
  if (!task) return "none yet";
  const time = `${new Date(task.time * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `${time}  ${task.status ?? "running"}${task.id ? `  ${task.id}` : ""}`.slice(0, 64);
}

function Dashboard(props: { state: ConsoleState; status?: ConsoleStatus; error?: string }) {
  const { state, status, error } = props;
  const glyphs = useGlyphs();
  const lines = status?.fingerprint
    ? fingerprintLines(status.fingerprint)
    : ["(no certificate yet)"];
  return (
    <Frame title="Console" keys={`${glyphs.arrows} move  Enter or 1-6 choose  q quit`}>
      {error ? <Text color="red">{error.slice(0, 78)}</Text> : null}
      {status ? (
        <>
          <Row label="Web interface">
            {status.url.padEnd(40)}service {status.service}
          </Row>
          {lines.map((line, index) => (
            <Row key={line} label={index === 0 ? "Fingerprint" : ""}>
              {line}
            </Row>
          ))}
          {status.poolError ? (
            <Row label="Pools">unknown: {status.poolError.slice(0, 55)}</Row>
          ) : null}
          {status.pools.length === 0 && !status.poolError ? <Row label="Pools">none</Row> : null}
          {status.pools.slice(0, 3).map((pool, index) => (
            <Row key={pool.name} label={index === 0 ? "Pools" : ""}>
              {pool.name.padEnd(16)}
              {pool.health.padEnd(10)}
              {pool.size === undefined
                ? "size unknown"
                : `${formatBytes(pool.alloc ?? 0)} of ${formatBytes(pool.size)} used`}
            </Row>
          ))}
          {status.datastores.length === 0 ? <Row label="Datastores">none</Row> : null}
          {status.datastores.slice(0, 3).map((store, index) => (
            <Row key={store.name} label={index === 0 ? "Datastores" : ""}>
              {store.name.padEnd(16)}
              {store.totalBytes === undefined
                ? `${store.path.slice(0, 36)} (not mounted)`
                : `${formatBytes(store.usedBytes ?? 0)} of ${formatBytes(store.totalBytes)} used`}
            </Row>
          ))}
          <Row label="Last backup">{when(status.tasks.lastBackup)}</Row>
          <Row label="Last GC">{when(status.tasks.lastGc)}</Row>
          <Row label="Running tasks">
            {status.tasks.running.length === 0
              ? "none"
              : status.tasks.running
                  .map((task) => `${task.type}${task.id ? ` ${task.id}` : ""}`)
                  .join(", ")
                  .slice(0, 64)}
          </Row>
        </>
      ) : (
        <Text>reading status...</Text>
      )}
      <Text> </Text>
      {MENU.map((entry, index) => (
        <Text key={entry.id} bold={index === state.menu}>
          {index === state.menu ? `${glyphs.pointer} ` : "  "}
          {index + 1} {entry.label}
        </Text>
      ))}
      {state.message ? (
        <Text color={state.message.error ? "red" : "green"}>{state.message.text.slice(0, 78)}</Text>
      ) : null}
    </Frame>
  );
}
