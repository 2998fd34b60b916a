import { Text } from "ink";
import type { ScreenProps } from "../form.js";
import { Frame } from "../frame.js";

/** Where to go next: the web UI, the fingerprint clients must trust, a first backup command. */
export function Done({ state }: ScreenProps) {
  const result = state.apply.result;
  if (!result) return <Text>Setup has not finished.</Text>;
  return (
    <Frame title="Done" keys="Enter finish">
      <Text bold>The appliance is ready.</Text>
      <Text> </Text>
      <Text>Web interface:</Text>
      <Text> {result.url}</Text>
      <Text>Certificate fingerprint (compare it when a client or browser asks):</Text>
      {fingerprintLines(result.fingerprint).map((line) => (
        <Text key={line}> {line}</Text>
      ))}
      <Text> </Text>
      <Text>Back up a host with the client:</Text>
      <Text> cairn backup root.pxar:/ --repository {result.repository}</Text>
      <Text> </Text>
      <Text>Datastore path: {result.datastorePath}</Text>
      <Text>This console comes back on tty1 as a status screen; run `cairn-setup console`</Text>
      <Text>on the appliance to open it anywhere.</Text>
    </Frame>
  );
}

/** 32 bytes as two lines of 16, so the fingerprint fits an 80-column console. */
export function fingerprintLines(fingerprint: string): string[] {
  const bytes = fingerprint.split(":");
  return bytes.length <= 16
    ? [fingerprint]
    : [bytes.slice(0, 16).join(":"), bytes.slice(16).join(":")];
}
