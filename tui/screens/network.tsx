import { Box, Text } from "ink";
import { focusOf, networkFields } from "../fields.js";
import { FieldRow, HelpLine, OtherProblems, type ScreenProps } from "../form.js";
import { Frame } from "../frame.js";

/** Management interface (link state and MAC shown), DHCP or static, name servers, host name. */
export function Network(props: ScreenProps & { step?: string; keys?: string }) {
  const { state } = props;
  const fields = networkFields(state);
  const focus = focusOf(state, fields.length);
  const chosen = state.draft.network.interface;
  return (
    <Frame
      title="Network"
      step={props.step ?? "2/6"}
      keys={props.keys ?? "Up/Down move  Left/Right change  Enter next  Esc back  ? help"}
    >
      <Text bold>{"  Interface  Link      MAC                Address"}</Text>
      <Box flexDirection="column">
        {state.env.interfaces.slice(0, 5).map((iface) => (
          <Text key={iface.name}>
            {iface.name === chosen ? "* " : "  "}
            {iface.name.padEnd(11)}
            {iface.state.padEnd(10)}
            {(iface.mac ?? "-").padEnd(19)}
            {iface.addresses.find((a) => a.family === 4 && a.scope === "global")?.cidr ?? "-"}
          </Text>
        ))}
      </Box>
      <Text> </Text>
      {fields.map((field, index) => (
        <FieldRow key={field.key} field={field} state={state} focused={index === focus} />
      ))}
      <OtherProblems state={state} shown={fields.map((field) => `network.${field.key}`)} />
      <HelpLine state={state} field={fields[focus]} />
    </Frame>
  );
}
