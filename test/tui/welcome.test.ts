import test from "ava";
import { render } from "ink-testing-library";
import { createElement as h } from "react";
import { Firstboot } from "../../tui/app.js";
import { Welcome } from "../../tui/screens/welcome.js";
import { initialState } from "../../tui/state.js";
import { fakeEnvironment, KEY, noRun, press } from "./fixtures.js";

test("welcome shows version, CPU, memory, disks and NICs with link state", (t) => {
  const state = initialState(fakeEnvironment());
  const { lastFrame } = render(h(Welcome, { state, dispatch: () => {} }));
  const frame = lastFrame() ?? "";
  t.regex(frame, /Cairn 9\.9\.9/);
  t.regex(frame, /12 x Intel\(R\) Xeon/);
  t.regex(frame, /Memory\s+32\.0 GiB/);
  t.regex(frame, /sdb 3\.64 TiB/);
  t.regex(frame, /eth0\s+link up\s+52:54:00:12:34:56/);
  t.regex(frame, /eth1\s+link down/);
});

test("Enter moves on to the network screen; Esc there comes back", async (t) => {
  const app = render(h(Firstboot, { env: fakeEnvironment(), run: noRun }));
  await press(app, KEY.enter);
  t.regex(app.lastFrame() ?? "", /Cairn setup: Network/);
  await press(app, KEY.escape);
  t.regex(app.lastFrame() ?? "", /Cairn setup: Welcome/);
});

test("every line fits 80 columns and 24 rows", (t) => {
  const state = initialState(fakeEnvironment());
  const { lastFrame } = render(h(Welcome, { state, dispatch: () => {} }));
  const lines = (lastFrame() ?? "").split("\n");
  t.true(lines.length <= 24);
  for (const line of lines) t.true(line.length <= 80, line);
});
