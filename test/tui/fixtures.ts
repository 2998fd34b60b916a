import { setTimeout as delay } from "node:timers/promises";
import { render } from "ink-testing-library";
import { createElement as h } from "react";
import type { SetupEnvironment } from "../../appliance/setup/environment.js";
import type { DiskInfo } from "../../appliance/system/disks/disks.js";
import { Firstboot, type FirstbootProps } from "../../tui/app.js";
import { initialState, type Screen, type State } from "../../tui/state.js";

const TB = 4_000_787_030_016;

function disk(name: string, size: number, extra: Partial<DiskInfo> = {}): DiskInfo {
  return {
    path: `/dev/${name}`,
    name,
    size,
    model: "WDC WD40EFRX",
    serial: `WD-${name}`,
    rotational: true,
    transport: "sata",
    type: "disk",
    mountpoints: [],
    children: [],
    used: "unused",
    systemDisk: false,
    ...extra,
  };
}

/** A small server: a system SSD, four 4 TB disks (one with old partitions), two NICs. */
export function fakeEnvironment(): SetupEnvironment {
  return {
    version: "9.9.9",
    cpu: { model: "Intel(R) Xeon(R) E-2236", count: 12 },
    memoryBytes: 32 * 1024 ** 3,
    disks: [
      disk("sda", 240_057_409_536, {
        model: "Samsung SSD 860",
        rotational: false,
        systemDisk: true,
        used: "mounted",
      }),
      disk("sdb", TB),
      disk("sdc", TB),
      disk("sdd", TB, { used: "partitions" }),
      disk("sde", TB),
    ],
    interfaces: [
      {
        name: "eth0",
        index: 2,
        state: "UP",
        flags: ["UP"],
        mac: "52:54:00:12:34:56",
        addresses: [{ family: 4, cidr: "192.0.2.10/24", scope: "global" }],
      },
      { name: "eth1", index: 3, state: "DOWN", flags: [], mac: "52:54:00:ab:cd:ef", addresses: [] },
    ],
    capabilities: {
      exactPoolList: true,
      fragmentation: true,
      relatime: true,
      compression: ["on", "off", "lz4", "gzip", "gzip-[1-9]", "zle", "zstd"],
    },
    network: {
      interface: "eth0",
      method: "static",
      address: "192.0.2.10/24",
      gateway: "192.0.2.1",
      dns: ["192.0.2.53"],
      fqdn: "backup.example.com",
    },
  };
}

export const KEY = {
  enter: "\r",
  escape: "\u001B",
  up: "\u001B[A",
  down: "\u001B[B",
  right: "\u001B[C",
  left: "\u001B[D",
  tab: "\t",
  backspace: "\u007F",
  space: " ",
  clear: "\u0015",
};

interface Terminal {
  stdin: { write(data: string): void; listenerCount(event: string): number };
  lastFrame(): string | undefined;
}

/** Waits until the frame has not changed for a while: renders and effects have run. */
export async function settle(app: Terminal, min = 30): Promise<void> {
  await delay(min);
  let last = app.lastFrame();
  let stable = 0;
  for (let i = 0; i < 100 && stable < 3; i++) {
    await delay(20);
    const now = app.lastFrame();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

/** Writes keys one at a time, letting the screen settle around each. */
export async function press(app: Terminal, ...keys: string[]) {
  // Ink reads stdin only once an input hook has subscribed; earlier keys would be lost.
  for (let i = 0; i < 100 && app.stdin.listenerCount("readable") === 0; i++) await delay(20);
  await settle(app, 40);
  for (const key of keys) {
    app.stdin.write(key);
    await settle(app);
  }
}

/** Types text into the focused field, after clearing it with Ctrl-U. */
export async function typeInto(app: Terminal, text: string) {
  await press(app, KEY.clear, text);
}

/** A plan runner that never runs anything. */
export async function* noRun(): AsyncGenerator<never> {}

/** The wizard opened at one screen, with the reducer live, for testing that screen alone. */
export function renderScreen(
  screen: Screen,
  change: (state: State) => State = (state) => state,
  props: Partial<FirstbootProps> = {},
) {
  const initial = change({ ...initialState(fakeEnvironment()), screen });
  return render(h(Firstboot, { env: initial.env, run: noRun, initial, ...props }));
}

export function frameOf(app: { lastFrame(): string | undefined }): string {
  return app.lastFrame() ?? "";
}
