import { readFile } from "node:fs/promises";
import { fingerprintFilePath } from "./config-paths.js";
import { writePrivateFile } from "./private-file.js";

/** Server certificate fingerprints the user accepted, one `<server> <fingerprint>` per line. */
export class FingerprintStore {
  constructor(readonly path: string = fingerprintFilePath()) {}

  async lookup(server: string): Promise<string | undefined> {
    return (await this.#read()).get(server);
  }

  async remember(server: string, fingerprint: string): Promise<void> {
    const entries = await this.#read();
    entries.set(server, fingerprint.toLowerCase());
    const lines = [...entries].map(([name, value]) => `${name} ${value}\n`);
    await writePrivateFile(this.path, lines.join(""));
  }

  async #read(): Promise<Map<string, string>> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
      throw err;
    }
    const entries = new Map<string, string>();
    for (const line of text.split("\n")) {
      const [server, fingerprint] = line.trim().split(/\s+/);
      if (server && fingerprint) entries.set(server, fingerprint.toLowerCase());
    }
    return entries;
  }
}
