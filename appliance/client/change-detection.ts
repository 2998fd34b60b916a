import { ClientError } from "./errors.js";

/**
 * How `cairn backup` finds what changed (pxar-format.md §6–§7): `legacy` writes one v1 `.pxar`;
 * `data` a split `.mpxar` + `.ppxar` pair, every file read again; `metadata` the split pair, a file
 * whose metadata equals its previous entry re-using the previous payload chunks unread.
 */
export type ChangeDetectionMode = "legacy" | "data" | "metadata";

export const CHANGE_DETECTION_MODES: readonly ChangeDetectionMode[] = [
  "legacy",
  "data",
  "metadata",
];

export function parseChangeDetectionMode(text: string): ChangeDetectionMode {
  if ((CHANGE_DETECTION_MODES as readonly string[]).includes(text)) {
    return text as ChangeDetectionMode;
  }
  throw new ClientError(
    "bad-argument",
    `--change-detection-mode must be legacy, data or metadata, got '${text}'`,
  );
}

/** The index names of a split archive: `root.pxar.didx` → `root.mpxar.didx`, `root.ppxar.didx`. */
export interface SplitArchiveNames {
  readonly metadata: string;
  readonly payload: string;
}

export function splitArchiveNames(pxarName: string): SplitArchiveNames {
  const label = pxarName.replace(/\.[mp]?pxar(\.didx)?$/, "");
  return { metadata: `${label}.mpxar.didx`, payload: `${label}.ppxar.didx` };
}
