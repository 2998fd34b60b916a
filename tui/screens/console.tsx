import { Text, useApp, useInput } from "ink";
import { useEffect, useState } from "react";
import { formatBytes } from "../../appliance/setup/capacity.js";
import type { ConsoleStatus } from "../../appliance/setup/console-status.js";
import { Frame } from "../frame.js";
import { fingerprintLines } from "./done.js";

/** The status dashboard on tty1 after setup, refreshed every few seconds; q leaves it. */
export function Console(props: { load: () => Promise<ConsoleStatus>; refreshMs?: number }) {
  const { exit } = useApp();
  const [status, setStatus] = useState<ConsoleStatus | undefined>();
  const [error, setError] = useState<string | undefined>();
  const { load, refreshMs = 5000 } = props;
  useEffect(() => {
    let live = true;
    const refresh = () =>
      load()
        .then((next) => live && setStatus(next))
        .catch((err: unknown) => live && setError(String(err)));
    void refresh();
    const timer = setInterval(refresh, refreshMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [load, refreshMs]);
  useInput((input) => {
    if (input === "q") exit();
  });
  return (
    <Frame title="Console" keys="q quit (the status refreshes by itself)">
      {error ? <Text color="red">{error}</Text> : null}
      {status ? (
        <>
          <Text bold>Web interface</Text>
          <Text> {status.url}</Text>
          <Text bold>Certificate fingerprint</Text>
          {status.fingerprint ? (
            fingerprintLines(status.fingerprint).map((line) => <Text key={line}> {line}</Text>)
          ) : (
            <Text> (no certificate yet)</Text>
          )}
          <Text bold>Pools</Text>
          {status.poolError ? <Text> unknown: {status.poolError.slice(0, 70)}</Text> : null}
          {status.pools.length === 0 && !status.poolError ? <Text> none</Text> : null}
          {status.pools.map((pool) => (
            <Text key={pool.name}>
              {"  "}
              {pool.name.padEnd(16)}
              {pool.health.padEnd(10)}
              {pool.size === undefined
                ? "size unknown"
                : `${formatBytes(pool.alloc ?? 0)} of ${formatBytes(pool.size)} used`}
            </Text>
          ))}
          <Text bold>Datastores</Text>
          {status.datastores.length === 0 ? <Text> none</Text> : null}
          {status.datastores.map((store) => (
            <Text key={store.name}>
              {"  "}
              {store.name.padEnd(16)}
              {store.totalBytes === undefined
                ? `${store.path} (not mounted)`
                : `${formatBytes(store.usedBytes ?? 0)} of ${formatBytes(store.totalBytes)} used`}
            </Text>
          ))}
        </>
      ) : (
        <Text>reading status...</Text>
      )}
    </Frame>
  );
}
