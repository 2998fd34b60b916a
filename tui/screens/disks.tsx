import { Box, Text } from "ink";
import {
  faultTolerance,
  formatBytes,
  raidProblem,
  usableCapacity,
} from "../../appliance/setup/capacity.js";
import { DISK_FIELDS, focusOf } from "../fields.js";
import { FieldRow, HelpLine, OtherProblems, type ScreenProps } from "../form.js";
import { Frame } from "../frame.js";
import { useGlyphs } from "../glyphs.js";

/** Disk table (the system disk locked), multi-select, raid level with live usable capacity. */
export function Disks(props: ScreenProps) {
  const { state } = props;
  const glyphs = useGlyphs();
  const { disks: draft } = state.draft;
  const choosable = state.env.disks.filter((disk) => !disk.systemDisk);
  const rows = choosable.length + DISK_FIELDS.length;
  const focus = focusOf(state, rows);
  const sizes = draft.selected.map(
    (path) => state.env.disks.find((disk) => disk.path === path)?.size ?? 0,
  );
  const usable = usableCapacity(draft.raidlevel, sizes);
  return (
    <Frame
      title="Datastore disks"
      step="3/6"
      keys="Up/Down move  Space select  Left/Right raid  Enter next  Esc back  ? help"
    >
      <Text bold>{"      Device        Size      Model              Type Bus   Use"}</Text>
      <Box flexDirection="column">
        {state.env.disks.map((disk) => {
          const index = choosable.indexOf(disk);
          const mark = disk.systemDisk
            ? glyphs.locked
            : draft.selected.includes(disk.path)
              ? glyphs.checked
              : glyphs.unchecked;
          return (
            <Text key={disk.path} dimColor={disk.systemDisk}>
              {index === focus ? `${glyphs.pointer} ` : "  "}
              {mark} {shortPath(disk.path).padEnd(14)}
              {formatBytes(disk.size).padEnd(10)}
              {(disk.model ?? "-").slice(0, 18).padEnd(19)}
              {(disk.rotational ? "HDD" : "SSD").padEnd(5)}
              {(disk.transport ?? "-").slice(0, 5).padEnd(6)}
              {disk.systemDisk ? "system disk" : disk.used}
            </Text>
          );
        })}
      </Box>
      <Text> </Text>
      {DISK_FIELDS.map((field, index) => (
        <Box key={field.key} flexDirection="column">
          <FieldRow field={field} state={state} focused={choosable.length + index === focus} />
          {field.key === "raidlevel" ? (
            <Text>
              {"                "}
              {draft.selected.length} selected,{" "}
              {usable === undefined
                ? `not usable: ${draft.selected.length === 0 ? "select disks with Space" : raidProblem(draft.raidlevel, draft.selected.length)}`
                : `usable ${formatBytes(usable)}, survives ${faultTolerance(draft.raidlevel, draft.selected.length)} failed disk(s)`}
            </Text>
          ) : null}
        </Box>
      ))}
      <OtherProblems
        state={state}
        shown={DISK_FIELDS.map((field) => `disks.${field.key}`).filter(
          (f) => f !== "disks.raidlevel",
        )}
      />
      {state.wipePrompt ? (
        <Box flexDirection="column">
          <Text color="yellow" bold>
            These disks hold data and will be WIPED: {state.wipePrompt.join(", ")}
          </Text>
          <Text>Press y to wipe them, any other key to change the selection.</Text>
        </Box>
      ) : null}
      <HelpLine state={state} field={DISK_FIELDS[focus - choosable.length]} />
    </Frame>
  );
}

/** Long device paths (by-id, files in tests) keep their distinctive end. */
function shortPath(path: string): string {
  return path.length <= 13 ? path : `~${path.slice(-12)}`;
}
