import { Box, Text } from "ink";
import { formatBytes } from "../../appliance/setup/capacity.js";
import type { ScreenProps } from "../form.js";
import { Frame } from "../frame.js";

/** What the appliance found: version, CPU, memory, disks and network cards with their links. */
export function Welcome({ state }: ScreenProps) {
  const { env } = state;
  return (
    <Frame title="Welcome" step="1/6" keys="Enter start   Esc back   ? help on a field">
      <Text>
        Cairn {env.version} turns this machine into a backup server in a few steps: network,
      </Text>
      <Text>datastore disks, retention, an admin account. Nothing changes before the summary.</Text>
      <Text> </Text>
      <Text bold>Hardware</Text>
      <Text>
        {"  CPU      "}
        {env.cpu.count} x {env.cpu.model}
      </Text>
      <Text>
        {"  Memory   "}
        {formatBytes(env.memoryBytes)}
      </Text>
      <Text>
        {"  Disks    "}
        {env.disks.length === 0
          ? "none found"
          : env.disks
              .slice(0, 4)
              .map((disk) => `${disk.name} ${formatBytes(disk.size)}`)
              .join(", ") + (env.disks.length > 4 ? `, +${env.disks.length - 4} more` : "")}
      </Text>
      <Text bold>Network</Text>
      <Box flexDirection="column">
        {env.interfaces.length === 0 ? <Text>{"  no network interfaces found"}</Text> : null}
        {env.interfaces.slice(0, 6).map((iface) => (
          <Text key={iface.name}>
            {"  "}
            {iface.name.padEnd(10)}
            {(iface.state === "UP" ? "link up" : `link ${iface.state.toLowerCase()}`).padEnd(18)}
            {iface.mac ?? ""}
          </Text>
        ))}
      </Box>
    </Frame>
  );
}
