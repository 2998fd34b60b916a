import test from "ava";
import { render } from "ink-testing-library";
import { createElement as h } from "react";
import type { ConsoleStatus } from "../../appliance/setup/console-status.js";
import { Console } from "../../tui/screens/console.js";
import { settle } from "./fixtures.js";

test("the dashboard shows URL, fingerprint, pool health and datastore usage", async (t) => {
  const status: ConsoleStatus = {
    url: "https://backup:8007",
    fingerprint: Array.from({ length: 32 }, () => "ab").join(":"),
    pools: [{ name: "tank", size: 4e12, alloc: 1e12, free: 3e12, health: "DEGRADED", exact: true }],
    datastores: [
      {
        name: "store1",
        path: "/mnt/datastore/tank/store1",
        usedBytes: 2 ** 40,
        totalBytes: 2 ** 42,
      },
      { name: "old", path: "/mnt/old" },
    ],
  };
  const app = render(h(Console, { load: async () => status }));
  t.teardown(() => app.unmount());
  await settle(app);
  const frame = app.lastFrame() ?? "";
  t.regex(frame, /https:\/\/backup:8007/);
  t.regex(frame, /ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab\n/);
  t.regex(frame, /tank\s+DEGRADED\s+931 GiB of 3\.64 TiB used/);
  t.regex(frame, /store1\s+1\.00 TiB of 4\.00 TiB used/);
  t.regex(frame, /old\s+\/mnt\/old \(not mounted\)/);
});
