/**
 * Run by batched-reads.test.ts as root: drops to the given uid/gid (so that permissions apply),
 * archives the tree with the walker at each read-ahead and with the per-entry oracle, and
 * prints their archives' digests and warnings as JSON.
 */
import { createHash } from "node:crypto";
import { archiveTree } from "./fixtures.js";
import { archivePerEntry } from "./per-entry-walk.js";

const [root, uid, gid, ...readAheads] = process.argv.slice(2);
process.setgroups?.([]);
process.setgid?.(Number(gid));
process.setuid?.(Number(uid));

const digest = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const oracle = await archivePerEntry(root!);
const walks = [];
for (const readAhead of readAheads.map(Number)) {
  const walked = await archiveTree(root!, { readAhead });
  walks.push({
    readAhead,
    digest: digest(walked.archive),
    warnings: walked.warnings.map((warning) => warning.message),
  });
}
process.stdout.write(
  JSON.stringify({ oracle: { digest: digest(oracle.archive), warnings: oracle.warnings }, walks }),
);
