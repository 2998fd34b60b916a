import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The shared specification folder, beside the repository (read-only). */
export const SPEC_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "shared",
  "spec",
);

// biome-ignore lint/suspicious/noExplicitAny: the vectors file is untyped JSON, narrowed where used
export type Vectors = any;

/** Loads `test-vectors.json` from the shared specification folder. */
export function loadVectors(name = "test-vectors.json"): Vectors {
  return JSON.parse(readFileSync(join(SPEC_DIR, name), "utf8"));
}
