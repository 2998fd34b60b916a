import { Box, Text } from "ink";
import { useMemo, useState } from "react";
import { retentionProblems } from "../../appliance/setup/plan.js";
import {
  PREVIEW_DAYS,
  type PreviewSeries,
  retentionPreview,
} from "../../appliance/setup/retention-preview.js";
import { focusOf, RETENTION_FIELDS } from "../fields.js";
import { FieldRow, HelpLine, OtherProblems, type ScreenProps } from "../form.js";
import { Frame } from "../frame.js";
import { retentionOf } from "../state.js";

function describe(label: string, series: PreviewSeries): string {
  return `${label}: keeps ${series.kept} of ${series.total}, oldest ${series.oldestDays} days old`;
}

function breakdown(series: PreviewSeries): string {
  return Object.entries(series.byRule)
    .map(([rule, count]) => `${rule.replace("keep-", "")} ${count}`)
    .join(", ");
}

/** keep-* rules with defaults and a live preview by the server's own prune selection. */
export function Retention(props: ScreenProps & { now?: number; timeZone?: string }) {
  const { state } = props;
  const focus = focusOf(state, RETENTION_FIELDS.length);
  const [now] = useState(() => props.now ?? Math.floor(Date.now() / 1000));
  const rules = state.draft.retention;
  const { timeZone } = props;
  // Recomputed only when a rule changes: 2160 hourly snapshots per keystroke is wasteful.
  const preview = useMemo(() => {
    const retention = retentionOf({ retention: rules });
    if (retentionProblems(retention).length > 0) return undefined;
    return retentionPreview(retention, now, timeZone);
  }, [rules, now, timeZone]);
  return (
    <Frame
      title="Retention"
      step="4/6"
      keys="Up/Down move  Enter next  Esc back  ? help  (0 = rule not used)"
    >
      {RETENTION_FIELDS.map((field, index) => (
        <FieldRow
          key={field.key}
          field={field}
          state={state}
          focused={index === focus}
          labelWidth={17}
        />
      ))}
      <OtherProblems state={state} shown={RETENTION_FIELDS.map((f) => `retention.${f.key}`)} />
      <Text> </Text>
      <Text bold>Preview: what these rules keep of {PREVIEW_DAYS} days of backups</Text>
      {preview ? (
        <Box flexDirection="column">
          <Text> {describe("daily backups ", preview.daily)}</Text>
          <Text> {breakdown(preview.daily)}</Text>
          <Text> {describe("hourly backups", preview.hourly)}</Text>
          <Text> {breakdown(preview.hourly)}</Text>
        </Box>
      ) : (
        <Text> (fix the values above to see the preview)</Text>
      )}
      <HelpLine state={state} field={RETENTION_FIELDS[focus]} />
    </Frame>
  );
}
