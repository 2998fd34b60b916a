import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import { writeFileAtomic } from "../../datastore/atomic-file.js";
import { LockDirectory } from "../../datastore/locks.js";
import { ConfigError } from "./config-errors.js";

export interface ConfigSnapshot<T> {
  value: T;
  /** SHA-256 hex of the file's bytes: PBS's `digest`, for detecting concurrent changes. */
  digest: string;
}

const LOCK_TIMEOUT_MS = 10_000;

/**
 * One JSON file of the configuration directory, validated by its schema on every load (a broken
 * file is an error naming it, never silently replaced), replaced atomically, and changed only as
 * a read-modify-write under a flock shared with other processes (cairn-manager).
 */
export class JsonConfigFile<S extends z.ZodType> {
  readonly path: string;
  readonly #locks: LockDirectory;

  constructor(
    readonly dir: string,
    readonly filename: string,
    private readonly schema: S,
    private readonly empty: () => z.infer<S>,
    /** File mode of the written file; 0o600 for files holding secrets. */
    private readonly mode = 0o640,
  ) {
    this.path = join(dir, filename);
    this.#locks = new LockDirectory(join(dir, ".locks"));
  }

  async read(): Promise<ConfigSnapshot<z.infer<S>>> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        return { value: this.empty(), digest: digestOf(Buffer.alloc(0)) };
      }
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString("utf8"));
    } catch (cause) {
      throw new ConfigError(
        "bad-file",
        `${this.path}: not valid JSON: ${(cause as Error).message}`,
        { file: this.path },
        { cause },
      );
    }
    const result = this.schema.safeParse(json);
    if (!result.success) {
      throw new ConfigError("bad-file", `${this.path}: ${describeIssues(result.error)}`, {
        file: this.path,
      });
    }
    return { value: result.data, digest: digestOf(bytes) };
  }

  /**
   * Applies `change` to the current value under the lock and writes the result. With
   * `expectedDigest`, refuses when the file changed since the caller read it.
   */
  async update(
    change: (value: z.infer<S>) => z.infer<S> | Promise<z.infer<S>>,
    expectedDigest?: string,
  ): Promise<ConfigSnapshot<z.infer<S>>> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const lock = await this.#locks.acquire(this.filename, "exclusive", {
      timeoutMs: LOCK_TIMEOUT_MS,
      purpose: `change ${this.filename}`,
    });
    try {
      const current = await this.read();
      if (expectedDigest !== undefined && expectedDigest !== current.digest) {
        throw new ConfigError(
          "changed",
          `${this.filename} was changed by someone else meanwhile (digest mismatch); read it again`,
          { file: this.path },
        );
      }
      const checked = this.schema.safeParse(await change(current.value));
      if (!checked.success) {
        throw new ConfigError("bad-value", `${this.filename}: ${describeIssues(checked.error)}`, {
          file: this.path,
        });
      }
      const next = checked.data;
      const bytes = Buffer.from(`${JSON.stringify(next, null, 2)}\n`);
      await writeFileAtomic(this.path, bytes, { fsync: true, mode: this.mode });
      return { value: next, digest: digestOf(bytes) };
    } finally {
      lock.release();
    }
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join(".") || "(top)"}: ${issue.message}`)
    .join("; ");
}

function digestOf(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
