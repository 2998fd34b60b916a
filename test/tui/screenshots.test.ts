import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { renderScreens } from "../../tui/screenshots/screens.js";
import { REPO_ROOT } from "../helpers/cli.js";

const screens = renderScreens();

test("there is a screenshot of every wizard screen and of the console's views", (t) => {
  const names = screens.map((screen) => screen.name);
  for (const title of ["welcome", "network", "disks", "retention", "admin", "summary", "done"]) {
    t.true(
      names.some((name) => name.endsWith(title)),
      title,
    );
  }
  t.true(names.includes("console-dashboard"));
  t.true(names.includes("console-pools"));
});

for (const { name, text } of screens) {
  test(`${name} fits an 80×24 console and its screenshot file is current`, (t) => {
    const lines = text.replace(/\n$/, "").split("\n");
    t.true(lines.length <= 24, `${lines.length} lines`);
    for (const line of lines) t.true([...line].length <= 80, line);
    t.regex(lines[0] ?? "", /^Cairn setup: /);
    const file = join(REPO_ROOT, "docs", "screenshots", `${name}.txt`);
    t.is(readFileSync(file, "utf8"), text, "run npm run screenshots");
  });
}
