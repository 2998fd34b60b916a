import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { useGlyphs } from "./glyphs.js";

export const WIDTH = 80;

/** Title, a rule, the screen, and the keys that work on it; sized for an 80×24 console. */
export function Frame(props: { title: string; step?: string; keys: string; children: ReactNode }) {
  const glyphs = useGlyphs();
  const heading = `Cairn setup: ${props.title}`;
  const step = props.step ?? "";
  return (
    <Box flexDirection="column" width={WIDTH}>
      <Text bold>
        {heading}
        {" ".repeat(Math.max(1, WIDTH - heading.length - step.length))}
        {step}
      </Text>
      <Text>{glyphs.rule.repeat(WIDTH)}</Text>
      <Box flexDirection="column" minHeight={19}>
        {props.children}
      </Box>
      <Text dimColor>{props.keys}</Text>
    </Box>
  );
}
