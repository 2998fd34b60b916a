/**
 * Where an unattended install finds its answer file: the boot menu's `cairn.answer=` parameter
 * names a file, or `auto` for `answer.toml` on a partition labelled CAIRN-AUTO (a second USB
 * stick, or a partition added to the install stick).
 */
import { SetupError } from "../errors.js";

/** At most 11 characters: the longest label FAT, the file system of most sticks, can hold. */
export const ANSWER_LABEL = "CAIRN-AUTO";
export const ANSWER_FILE_NAME = "answer.toml";

export type AnswerSource =
  | { kind: "partition"; label: string; file: string }
  | { kind: "file"; path: string };

/** The answer source a kernel command line asks for; undefined when it asks for none. */
export function answerSourceFromCmdline(cmdline: string): AnswerSource | undefined {
  const values = cmdline
    .trim()
    .split(/\s+/)
    .filter((word) => word.startsWith("cairn.answer="))
    .map((word) => word.slice("cairn.answer=".length));
  // Like the kernel, the last of repeated parameters wins.
  const value = values.at(-1);
  if (value === undefined || value === "") return undefined;
  if (value === "auto") return { kind: "partition", label: ANSWER_LABEL, file: ANSWER_FILE_NAME };
  if (value.startsWith("LABEL=")) {
    const label = value.slice("LABEL=".length);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(label)) throw badSource(value, "a label like CAIRN-AUTO");
    return { kind: "partition", label, file: ANSWER_FILE_NAME };
  }
  if (value.startsWith("/") && !value.includes("..")) return { kind: "file", path: value };
  throw badSource(value, "auto, LABEL=<label> or an absolute path");
}

function badSource(value: string, expected: string): SetupError {
  return new SetupError("bad-answer-file", `cairn.answer=${value}: must be ${expected}`, {
    field: "cairn.answer",
  });
}

interface LsblkNode {
  path?: string;
  name?: string;
  label?: string | null;
  fstype?: string | null;
  children?: LsblkNode[];
}

/** The device labelled `label` in `lsblk --json -o PATH,LABEL,FSTYPE` output; two are refused. */
export function findLabelledDevice(lsblkJson: string, label = ANSWER_LABEL): string | undefined {
  const parsed = JSON.parse(lsblkJson) as { blockdevices?: LsblkNode[] };
  const found: string[] = [];
  const walk = (node: LsblkNode) => {
    if (node.label === label && node.fstype) found.push(node.path ?? `/dev/${node.name}`);
    for (const child of node.children ?? []) walk(child);
  };
  for (const device of parsed.blockdevices ?? []) walk(device);
  if (found.length > 1) {
    throw new SetupError(
      "bad-answer-file",
      `${found.length} partitions are labelled ${label} (${found.join(", ")}); keep one`,
      { field: "cairn.answer" },
    );
  }
  return found[0];
}
