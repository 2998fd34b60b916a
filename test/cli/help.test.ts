import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = (await import(join(root, "package.json"), { with: { type: "json" } })).default as {
  bin: Record<string, string>;
};

for (const [name, path] of Object.entries(pkg.bin)) {
  test(`${name} --help names the command and exits 0`, (t) => {
    const out = execFileSync(process.execPath, [join(root, path), "--help"], { encoding: "utf8" });
    t.regex(out, new RegExp(`^Usage: ${name} `, "m"));
  });
}
