import { Box, Text } from "ink";
import { formatBytes } from "../../appliance/setup/capacity.js";
import { useGlyphs } from "../glyphs.js";
import {
  choosableDisks,
  fieldsOf,
  type InstallField,
  type InstallState,
} from "../install-state.js";

const TITLES: Record<string, string> = {
  disk: "System disk",
  locale: "Time zone and keyboard",
  root: "Root password and e-mail",
  network: "Management network",
};

function Row(props: { field: InstallField; state: InstallState; focused: boolean }) {
  const glyphs = useGlyphs();
  const { field, state, focused } = props;
  const value = state.draft[field.key];
  const shown =
    field.kind === "secret"
      ? "*".repeat(value.length)
      : field.kind === "choice"
        ? `< ${value} >`
        : value;
  const problem = state.problems.find((candidate) => candidate.field === field.field)?.message;
  return (
    <Box flexDirection="column">
      <Text>
        {focused ? `${glyphs.pointer} ` : "  "}
        <Text bold={focused}>{field.label.padEnd(15)}</Text>
        {shown}
        {focused && field.kind !== "choice" ? glyphs.cursor : ""}
      </Text>
      {problem ? <Text color="red">{`    ! ${problem}`}</Text> : null}
    </Box>
  );
}

/** The disk table (as on the datastore screen: the live system's disk locked), one choice. */
function DiskTable({ state }: { state: InstallState }) {
  const glyphs = useGlyphs();
  const choosable = choosableDisks(state);
  const problem = state.problems.find((candidate) => candidate.field === "install.disk");
  return (
    <Box flexDirection="column">
      <Text bold>{"      Device        Size      Model              Type Bus   Use"}</Text>
      {state.disks.map((disk) => {
        const index = choosable.indexOf(disk);
        const mark = disk.systemDisk
          ? glyphs.locked
          : state.draft.disk === disk.path
            ? "(*)"
            : "( )";
        return (
          <Text key={disk.path} dimColor={disk.systemDisk}>
            {index === state.focus ? `${glyphs.pointer} ` : "  "}
            {mark} {disk.path.slice(-13).padEnd(14)}
            {formatBytes(disk.size).padEnd(10)}
            {(disk.model ?? "-").slice(0, 18).padEnd(19)}
            {(disk.rotational ? "HDD" : "SSD").padEnd(5)}
            {(disk.transport ?? "-").slice(0, 5).padEnd(6)}
            {disk.systemDisk ? "live system" : disk.used}
          </Text>
        );
      })}
      {problem ? <Text color="red">{`! ${problem.message}`}</Text> : null}
      <Text> </Text>
    </Box>
  );
}

/** A form screen of the installer; the disk screen starts with its table. */
export function InstallForm({ state }: { state: InstallState }) {
  const fields = fieldsOf(state);
  const table = state.screen === "disk" ? choosableDisks(state).length : 0;
  const shown = new Set(["install.disk", ...fields.map((field) => field.field)]);
  return (
    <Box flexDirection="column">
      <Text bold>{`Cairn install: ${TITLES[state.screen] ?? state.screen}`}</Text>
      {state.screen === "disk" ? <DiskTable state={state} /> : null}
      {fields.map((field, index) => (
        <Row key={field.key} field={field} state={state} focused={table + index === state.focus} />
      ))}
      {state.problems
        .filter((problem) => !shown.has(problem.field))
        .map((problem) => (
          <Text key={problem.field} color="red">{`! ${problem.field}: ${problem.message}`}</Text>
        ))}
      {state.screen === "disk" ? (
        <Text color="yellow">Everything on the chosen disk is erased.</Text>
      ) : null}
      <Text dimColor>
        {state.screen === "disk"
          ? "Up/Down move  Space choose  Left/Right change  Enter next"
          : "Up/Down move  Left/Right change  Enter next  Esc back"}
      </Text>
    </Box>
  );
}
