import { Box, Text } from "ink";
import type { ConsoleStatus } from "../../appliance/setup/console-status.js";
import type { VdevNode } from "../../appliance/system/zfs/zpool-status.js";
import { type ConsoleState, PASSWORD_ROWS } from "../console-state.js";
import { ADMIN_FIELDS, focusOf } from "../fields.js";
import { FieldRow, HelpLine, OtherProblems } from "../form.js";
import { Frame } from "../frame.js";
import { fingerprintLines } from "./done.js";

function Message(props: { state: ConsoleState }) {
  const { message, busy } = props.state;
  if (busy) return <Text>working...</Text>;
  if (!message) return null;
  return <Text color={message.error ? "red" : "green"}>{message.text.slice(0, 400)}</Text>;
}

/** A new password for an existing user (the admin screen's first rows), typed twice. */
export function ConsolePassword(props: { state: ConsoleState }) {
  const form = props.state.form!;
  const fields = ADMIN_FIELDS.slice(0, PASSWORD_ROWS);
  const focus = focusOf(form, PASSWORD_ROWS);
  return (
    <Frame title="Reset admin password" keys="Up/Down move  Enter set  Esc cancel  ? help">
      {fields.map((field, index) => (
        <FieldRow key={field.key} field={field} state={form} focused={index === focus} />
      ))}
      <OtherProblems state={form} shown={fields.map((field) => `admin.${field.key}`)} />
      <Text> </Text>
      <Message state={props.state} />
      <HelpLine state={form} field={fields[focus]} />
    </Frame>
  );
}

/** The fingerprint clients and browsers must be shown, large enough to read out. */
export function ConsoleFingerprint(props: { status?: ConsoleStatus }) {
  const fingerprint = props.status?.fingerprint;
  return (
    <Frame title="Certificate fingerprint" keys="Enter or Esc back">
      <Text>SHA-256 fingerprint of the certificate the server presents at</Text>
      <Text> {props.status?.url ?? "(unknown)"}</Text>
      <Text> </Text>
      {fingerprint ? (
        fingerprintLines(fingerprint).map((line) => <Text key={line}> {line}</Text>)
      ) : (
        <Text> (no certificate yet)</Text>
      )}
      <Text> </Text>
      <Text>Compare it with what a client or browser shows before trusting it.</Text>
    </Frame>
  );
}

function vdevLines(node: VdevNode, depth: number): string[] {
  const counters = `${node.read} ${node.write} ${node.cksum}`;
  const line = `${" ".repeat(2 + depth * 2)}${node.name}`.padEnd(32);
  const own = `${line}${(node.state ?? "").padEnd(10)}${counters}${node.note ? ` ${node.note}` : ""}`;
  return [own.slice(0, 80), ...node.children.flatMap((child) => vdevLines(child, depth + 1))];
}

/** `zpool status` of every pool as a tree: state and read/write/checksum errors per device. */
export function ConsolePools(props: { state: ConsoleState }) {
  const { pools } = props.state;
  const lines = (pools ?? []).flatMap((pool) => [
    `${pool.name}: ${pool.state}${pool.scan ? `, ${pool.scan}` : ""}`.slice(0, 80),
    ...(pool.tree?.children.flatMap((vdev) => vdevLines(vdev, 0)) ?? []),
    ...(pool.errors ? [`  errors: ${pool.errors}`.slice(0, 80)] : []),
  ]);
  return (
    <Frame title="Pool status" keys="r refresh  Enter or Esc back">
      {pools?.length === 0 ? <Text>No pools.</Text> : null}
      {pools && pools.length > 0 ? (
        <Text bold>{`${"  device".padEnd(32)}${"state".padEnd(10)}read write cksum`}</Text>
      ) : null}
      <Box flexDirection="column">
        {lines.slice(0, 16).map((line, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of one text, in order
          <Text key={index}>{line}</Text>
        ))}
      </Box>
      <Message state={props.state} />
    </Frame>
  );
}

/** Reboot or shut down, only after an explicit y. */
export function ConsolePower(props: { state: ConsoleState }) {
  const reboot = props.state.view === "reboot";
  return (
    <Frame title={reboot ? "Reboot" : "Shut down"} keys="y yes   any other key: no">
      <Text bold>
        {reboot ? "Reboot the appliance now?" : "Shut the appliance down now?"} (y/N)
      </Text>
      <Text> </Text>
      <Text>Running backups and tasks are interrupted; clients retry or fail.</Text>
      {reboot ? null : <Text>It stays off until someone powers it on again.</Text>}
      <Text> </Text>
      <Message state={props.state} />
    </Frame>
  );
}
