import test from "ava";
import { frameOf, KEY, press, renderScreen, typeInto } from "./fixtures.js";

test("shows interfaces with link state and MAC, pre-filled from the system", (t) => {
  const app = renderScreen("network");
  const frame = frameOf(app);
  t.regex(frame, /\* eth0\s+UP\s+52:54:00:12:34:56\s+192\.0\.2\.10\/24/);
  t.regex(frame, /eth1\s+DOWN\s+52:54:00:ab:cd:ef/);
  t.regex(frame, /Interface\s+< eth0 >/);
  t.regex(frame, /Address\/CIDR\s+192\.0\.2\.10\/24/);
  t.regex(frame, /Gateway\s+192\.0\.2\.1\b/);
  t.regex(frame, /Hostname\s+backup\.example\.com/);
});

test("a bad CIDR keeps the operator on the screen with the reason", async (t) => {
  const app = renderScreen("network");
  await press(app, KEY.down, KEY.down);
  await typeInto(app, "192.0.2.300/24");
  await press(app, KEY.enter);
  const frame = frameOf(app);
  t.regex(frame, /Cairn setup: Network/);
  t.regex(frame, /! must be an IPv4 address with a \/prefix/);
});

test("a gateway outside the subnet is refused, a fixed one passes", async (t) => {
  const app = renderScreen("network");
  await press(app, KEY.down, KEY.down, KEY.down);
  await typeInto(app, "198.51.100.1");
  await press(app, KEY.enter);
  t.regex(frame(), /198\.51\.100\.1 is outside the subnet of 192\.0\.2\.10\/24/);
  await typeInto(app, "192.0.2.254");
  await press(app, KEY.enter);
  t.regex(frame(), /Cairn setup: Datastore disks/);
  function frame() {
    return frameOf(app);
  }
});

test("DHCP hides the address fields; an FQDN is required", async (t) => {
  const app = renderScreen("network");
  await press(app, KEY.down, KEY.right);
  t.regex(frameOf(app), /Method\s+< dhcp >/);
  t.notRegex(frameOf(app), /Address\/CIDR/);
  await press(app, KEY.down, KEY.down);
  await typeInto(app, "backup");
  await press(app, KEY.enter);
  t.regex(frameOf(app), /! must be a fully qualified name/);
});

test("the interface choice cycles through the machine's interfaces", async (t) => {
  const app = renderScreen("network");
  await press(app, KEY.right);
  t.regex(frameOf(app), /Interface\s+< eth1 >/);
  t.regex(frameOf(app), /\* eth1/);
});

test("? shows help for the focused field", async (t) => {
  const app = renderScreen("network");
  await press(app, KEY.down, KEY.down, KEY.down, "?");
  t.regex(frameOf(app), /Help: The default router/);
});
