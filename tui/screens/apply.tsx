import { Box, Text } from "ink";
import { useEffect, useState } from "react";
import { STEPS } from "../../appliance/setup/apply.js";
import type { ScreenProps } from "../form.js";
import { Frame } from "../frame.js";
import { useGlyphs } from "../glyphs.js";

function useSpinner(active: boolean): number {
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setFrame((value) => value + 1), 120);
    return () => clearInterval(timer);
  }, [active]);
  return frame;
}

/** Each step with a spinner while it runs; a failure shows the error and offers retry or back. */
export function Apply({ state }: ScreenProps) {
  const glyphs = useGlyphs();
  const { apply } = state;
  const frame = useSpinner(apply.running);
  return (
    <Frame
      title="Applying"
      keys={
        apply.failed && !apply.running
          ? "r retry the failed step   b/Esc back to the summary"
          : "working..."
      }
    >
      {STEPS.map((step) => {
        const { status, detail } = apply.steps[step.id];
        const mark =
          status === "running"
            ? glyphs.spinner[frame % glyphs.spinner.length]
            : status === "done"
              ? glyphs.ok
              : status === "failed"
                ? glyphs.failed
                : glyphs.pending;
        return (
          <Text key={step.id} color={status === "failed" ? "red" : undefined}>
            {" "}
            {(mark ?? "").padEnd(3)}
            {step.label.padEnd(33)}
            {status === "failed" ? "FAILED" : (detail ?? "").slice(0, 42)}
          </Text>
        );
      })}
      {apply.failed && !apply.running ? (
        <Box flexDirection="column" marginTop={1}>
          <Text color="red" bold>
            {STEPS.find((step) => step.id === apply.failed?.step)?.label} failed:
          </Text>
          <Text>{apply.failed.message.slice(0, 480)}</Text>
          <Text> </Text>
          <Text>
            Steps marked {glyphs.ok} are done and stay done; retry continues at the failed step.
          </Text>
        </Box>
      ) : null}
    </Frame>
  );
}
