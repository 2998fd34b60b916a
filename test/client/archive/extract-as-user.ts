/**
 * Run by extract-limits.test.ts as root: drops to the given uid/gid, restores the archive read
 * from standard input into the target directory, and prints the warnings and counters as JSON.
 */
import { text } from "node:stream/consumers";
import { extractArchive } from "../../../appliance/client/archive/extractor.js";
import { PxarDecoder } from "../../../appliance/format/pxar/decoder.js";

const [target, uid, gid] = process.argv.slice(2);
process.setgroups?.([]);
process.setgid?.(Number(gid));
process.setuid?.(Number(uid));

const archive = Buffer.from(await text(process.stdin), "base64");
const warnings: { kind: string; path: string }[] = [];
const counters = await extractArchive(
  new PxarDecoder(
    (async function* () {
      yield archive;
    })(),
  ),
  target!,
  { onWarning: (warning) => warnings.push({ kind: warning.kind, path: warning.path }) },
);
process.stdout.write(JSON.stringify({ warnings, counters }));
