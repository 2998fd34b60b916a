import { Box, Text } from "ink";
import { INSTALL_STEPS } from "../../appliance/setup/install/install-engine.js";
import { useGlyphs } from "../glyphs.js";
import type { InstallState } from "../install-state.js";

function Line(props: { label: string; value: string }) {
  return <Text>{`  ${props.label.padEnd(14)}${props.value}`}</Text>;
}

/** Every choice once more before the disk is erased; Enter installs. */
export function InstallSummary({ state }: { state: InstallState }) {
  const plan = state.plan;
  if (!plan) return <Text>No plan yet.</Text>;
  const { network } = plan;
  return (
    <Box flexDirection="column">
      <Text bold>Cairn install: Summary</Text>
      <Line label="System disk" value={`${plan.disk}, ${plan.filesystem}`} />
      <Line label="Time zone" value={plan.timezone} />
      <Line label="Keyboard" value={plan.keymap} />
      <Line label="E-mail" value={plan.email} />
      <Line
        label="Network"
        value={`${network.interface}, ${network.method === "static" ? `${network.address}${network.gateway ? ` via ${network.gateway}` : ""}` : "DHCP"}`}
      />
      <Line label="Hostname" value={network.fqdn} />
      <Text color="yellow" bold>{`  ALL DATA ON ${plan.disk} WILL BE ERASED.`}</Text>
      <Text dimColor>Enter install Esc back to change</Text>
    </Box>
  );
}

/** Each install step as it runs; a failure shows the command's error. */
export function InstallProgress({ state }: { state: InstallState }) {
  const glyphs = useGlyphs();
  return (
    <Box flexDirection="column">
      <Text bold>
        {state.screen === "done" ? "Cairn install: Done" : "Cairn install: Installing"}
      </Text>
      {INSTALL_STEPS.map((step) => {
        const { status, detail } = state.steps[step.id];
        const mark =
          status === "done"
            ? glyphs.ok
            : status === "failed"
              ? glyphs.failed
              : status === "running"
                ? "..."
                : status === "skipped"
                  ? "--"
                  : glyphs.pending;
        return (
          <Text key={step.id} color={status === "failed" ? "red" : undefined}>
            {` ${mark.padEnd(3)}${step.label.padEnd(42)}${status === "failed" ? "FAILED" : (detail ?? "").slice(0, 32)}`}
          </Text>
        );
      })}
      {state.failed ? (
        <Box flexDirection="column" marginTop={1}>
          <Text color="red" bold>{`${state.failed.step} failed:`}</Text>
          <Text>{state.failed.message.slice(0, 480)}</Text>
          <Text dimColor>
            b/Esc back to the summary (the disk is partitioned again from the start)
          </Text>
        </Box>
      ) : null}
      {state.screen === "done" ? (
        <Text bold>
          Installed. Remove the install medium and press Enter to reboot into first-boot setup.
        </Text>
      ) : null}
    </Box>
  );
}
