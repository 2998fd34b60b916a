import { Box, Text } from "ink";
import { formatBytes, usableCapacity } from "../../appliance/setup/capacity.js";
import { RETENTION_KEYS } from "../../appliance/setup/plan.js";
import type { ScreenProps } from "../form.js";
import { Frame } from "../frame.js";

function Line(props: { label: string; value: string }) {
  return (
    <Text>
      {"  "}
      {props.label.padEnd(14)}
      {props.value}
    </Text>
  );
}

/** Every choice once more; Enter applies the plan, Esc goes back to change it. */
export function Summary({ state }: ScreenProps) {
  const plan = state.plan;
  if (!plan) return <Text>No plan yet.</Text>;
  const { network, disks, retention, admin } = plan;
  const sizes = disks.devices.map(
    (path) => state.env.disks.find((d) => d.path === path)?.size ?? 0,
  );
  const usable = usableCapacity(disks.raidlevel, sizes);
  const keep = RETENTION_KEYS.filter((key) => retention[key] > 0)
    .map((key) => `${key.replace("keep-", "")} ${retention[key]}`)
    .join(", ");
  return (
    <Frame title="Summary" step="6/6" keys="Enter apply   Esc back to change">
      <Text bold>Network</Text>
      <Line
        label="Interface"
        value={`${network.interface}, ${network.method === "static" ? `${network.address}${network.gateway ? ` via ${network.gateway}` : ""}` : "DHCP"}`}
      />
      <Line label="DNS" value={network.dns.join(", ") || "(none)"} />
      <Line label="Hostname" value={network.fqdn} />
      <Text bold>Datastore</Text>
      <Line label="Disks" value={disks.devices.join(" ")} />
      <Line
        label="Pool"
        value={`${disks.pool}: ${disks.raidlevel}, ${usable === undefined ? "?" : formatBytes(usable)} usable, ashift ${disks.ashift}, ${disks.compression ?? "default"} compression`}
      />
      <Line label="Datastore" value={disks.datastore} />
      {disks.wipe.length > 0 ? (
        <Text color="yellow">{`  WIPED FIRST:  ${disks.wipe.join(" ")}`}</Text>
      ) : null}
      <Text bold>Retention</Text>
      <Line label="Keep" value={keep} />
      <Line
        label="Schedules"
        value={`prune ${retention["prune-schedule"]}, GC ${retention["gc-schedule"]}, verify ${retention["verify-schedule"]}`}
      />
      <Text bold>Admin</Text>
      <Line label="User" value={`${admin.user}${admin.email ? ` <${admin.email}>` : ""}`} />
      <Box marginTop={1}>
        <Text>Press Enter to apply. Each step is shown as it runs.</Text>
      </Box>
    </Frame>
  );
}
