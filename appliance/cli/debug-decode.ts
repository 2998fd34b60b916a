import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { loadKeyFile } from "../client/key-file.js";
import { writeFileAtomic } from "../datastore/atomic-file.js";
import { decodeBlob } from "../format/blob.js";
import { decodeChunk } from "../format/chunk.js";

const DIGEST_NAME = /^[0-9a-f]{64}$/;

/** `cairn-debug decode FILE --out OUT`: the checked content of a blob or chunk, or nothing. */
export function registerDecode(program: Command): void {
  program
    .command("decode <file>")
    .description(
      "write the decoded content of a blob or chunk (chunks named by digest are checked against it)",
    )
    .requiredOption("--out <path>", "where to write the decoded data ('-' for standard output)")
    .option("--keyfile <path>", "encryption key for encrypted blobs and chunks")
    .action(async (file: string, opts: { out: string; keyfile?: string }) => {
      const crypt = opts.keyfile ? (await loadKeyFile(opts.keyfile)).cryptConfig : undefined;
      const encoded = await readFile(file);
      const name = basename(file);
      const data = DIGEST_NAME.test(name)
        ? decodeChunk(encoded, Buffer.from(name, "hex"), { crypt })
        : decodeBlob(encoded, { crypt });
      if (opts.out === "-") process.stdout.write(data);
      else await writeFileAtomic(opts.out, data);
    });
}
