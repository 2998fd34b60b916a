/** Writes every console screen as text to docs/screenshots/ (npm run screenshots). */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderScreens } from "./screens.js";

const dir = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
await mkdir(dir, { recursive: true });
for (const { name, text } of renderScreens()) {
  await writeFile(join(dir, `${name}.txt`), text);
  process.stdout.write(`docs/screenshots/${name}.txt\n`);
}
