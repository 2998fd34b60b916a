import { Text } from "ink";
import { passwordStrength } from "../../appliance/setup/plan.js";
import { ADMIN_FIELDS, focusOf } from "../fields.js";
import { FieldRow, HelpLine, OtherProblems, type ScreenProps } from "../form.js";
import { Frame } from "../frame.js";

const HINT = {
  weak: "weak: use at least 10 characters mixing letters, digits and symbols",
  fair: "fair: 14 or more characters of three kinds would be strong",
  strong: "strong",
};

/** The administrator: user id, password twice with a strength hint, optional e-mail. */
export function Admin(props: ScreenProps) {
  const { state } = props;
  const focus = focusOf(state, ADMIN_FIELDS.length);
  const { password } = state.draft.admin;
  return (
    <Frame title="Admin account" step="5/6" keys="Up/Down move  Enter next  Esc back  ? help">
      {ADMIN_FIELDS.map((field, index) => (
        <FieldRow key={field.key} field={field} state={state} focused={index === focus} />
      ))}
      <OtherProblems state={state} shown={ADMIN_FIELDS.map((f) => `admin.${f.key}`)} />
      <Text> </Text>
      <Text>Strength: {password === "" ? "-" : HINT[passwordStrength(password)]}</Text>
      <HelpLine state={state} field={ADMIN_FIELDS[focus]} />
    </Frame>
  );
}
