import { ClientError } from "./errors.js";

/** One `LABEL.EXT:PATH` argument of `cairn backup`. */
export interface ArchiveSpec {
  kind: "pxar" | "img" | "blob";
  /** The name in the snapshot: `root.pxar.didx`, `disk.img.fidx`, `vm.conf.blob`. */
  archiveName: string;
  path: string;
}

const LABEL = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Parses `root.pxar:/`, `disk.img:/dev/sdb`, `vm.conf:/etc/vm.conf` (pbs-formats.md §4). */
export function parseArchiveSpec(text: string): ArchiveSpec {
  const colon = text.indexOf(":");
  const name = colon === -1 ? "" : text.slice(0, colon);
  const path = colon === -1 ? "" : text.slice(colon + 1);
  const match = /^(.+)\.(pxar|img|conf|log)$/.exec(name);
  if (match === null || !LABEL.test(match[1]!) || path === "") {
    throw new ClientError(
      "bad-argument",
      `'${text}' is not an archive spec: write LABEL.pxar:DIR, LABEL.img:FILE or LABEL.conf:FILE`,
    );
  }
  const extension = match[2]!;
  if (extension === "pxar") return { kind: "pxar", archiveName: `${name}.didx`, path };
  if (extension === "img") return { kind: "img", archiveName: `${name}.fidx`, path };
  return { kind: "blob", archiveName: `${name}.blob`, path };
}

/** The name a user gives for an archive on restore: `root.pxar` or `root.pxar.didx`. */
export function archiveFileName(name: string): string {
  if (/\.(didx|fidx|blob)$/.test(name)) return name;
  if (name.endsWith(".pxar") || name.endsWith(".mpxar") || name.endsWith(".ppxar"))
    return `${name}.didx`;
  if (name.endsWith(".img")) return `${name}.fidx`;
  return `${name}.blob`;
}
