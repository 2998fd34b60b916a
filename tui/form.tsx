import { Box, Text } from "ink";
import type { Dispatch } from "react";
import type { FieldSpec } from "./fields.js";
import { useGlyphs } from "./glyphs.js";
import { fieldValue } from "./keys.js";
import type { Action, State } from "./state.js";

export interface ScreenProps {
  state: State;
  dispatch: Dispatch<Action>;
}

export function FieldRow(props: {
  field: FieldSpec;
  state: State;
  focused: boolean;
  labelWidth?: number;
}) {
  const glyphs = useGlyphs();
  const { field, state, focused } = props;
  const value = fieldValue(state, field);
  const shown =
    field.kind === "secret"
      ? "*".repeat(value.length)
      : field.kind === "choice"
        ? `< ${value} >`
        : value;
  const problem = state.problems.find(
    (candidate) => candidate.field === `${field.section}.${field.key}`,
  )?.message;
  return (
    <Box flexDirection="column">
      <Text>
        <Text color={focused ? "cyan" : undefined}>{focused ? `${glyphs.pointer} ` : "  "}</Text>
        <Text bold={focused}>{field.label.padEnd(props.labelWidth ?? 14)}</Text>
        <Text>{shown}</Text>
        {focused && field.kind !== "choice" ? <Text>{glyphs.cursor}</Text> : null}
      </Text>
      {problem ? (
        <Text color="red">
          {"    ! "}
          {problem}
        </Text>
      ) : null}
    </Box>
  );
}

export function HelpLine(props: { state: State; field: FieldSpec | undefined }) {
  if (!props.state.help || !props.field) return null;
  return (
    <Text>
      {"Help: "}
      {props.field.help}
    </Text>
  );
}

/** Problems of fields a screen does not show as rows (e.g. a whole-plan check). */
export function OtherProblems(props: { state: State; shown: readonly string[] }) {
  const rest = props.state.problems.filter((problem) => !props.shown.includes(problem.field));
  return (
    <>
      {rest.map((problem) => (
        <Text key={problem.field + problem.message} color="red">
          {"! "}
          {problem.field}: {problem.message}
        </Text>
      ))}
    </>
  );
}
